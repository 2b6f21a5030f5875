import PlumbCore

extension SharedCounters {
    /// A limit's last minute as one hash per counter (`plumb:w:<limit>:r`
    /// for requests, `:t` for tokens): a count per second (field `second mod 60`), their `sum`
    /// and the `last` second moved to. Moving to a new second drops the counts that left the
    /// window, so a call costs a few hash operations, not a read of 60 keys. Time is Redis's
    /// own (`TIME`): servers whose clocks differ still share one minute.
    static let windowFunctions = """
        local now = tonumber(redis.call('TIME')[1])
        local function advance(key)
          local v = redis.call('HMGET', key, 'last', 'sum')
          local last, sum = tonumber(v[1]), tonumber(v[2]) or 0
          if not last then return 0 end
          if now <= last then return sum end
          if now - last >= 60 then redis.call('DEL', key); return 0 end
          for s = last + 1, now do
            local f = tostring(s % 60)
            local c = tonumber(redis.call('HGET', key, f) or '0')
            if c ~= 0 then sum = sum - c; redis.call('HDEL', key, f) end
          end
          redis.call('HSET', key, 'last', now, 'sum', sum)
          return sum
        end
        local function add(key, n)
          redis.call('HINCRBY', key, tostring(now % 60), n)
          redis.call('HINCRBY', key, 'sum', n)
          redis.call('HSET', key, 'last', now)
          redis.call('EXPIRE', key, 61)
        end
        local function wait(key, total, limit)
          for s = now - 59, now do
            total = total - tonumber(redis.call('HGET', key, tostring(s % 60)) or '0')
            if total < limit then return s + 60 - now end
          end
          return 60
        end
        """

    /// One round trip of `LeaseBook`'s: sends what a process has pending, then checks the rules
    /// a waiting call needs (`need`), then grants leases. All three steps run at once in Redis,
    /// so no other server's call comes between a check and its count.
    ///
    /// ARGV: nLimits, (name, rpm, tpm, need, want, tokens, nReturns, (second, n)…)…,
    ///       nBudgets, (id, amount, need, estimate, want, spent, release, inFlightTTL, spentTTL)…
    ///
    /// Sending: tokens settled go into the limit's token minute; unused slots go back to the
    /// second they were granted in (while it is in the window); spend settled moves from the
    /// budget's in-flight count (`release`, which also gives back unused reservation) to its spend.
    ///
    /// Checking (rules with `need` = 1): requests at the limit, tokens at or over it, or a
    /// budget's spend plus in flight at or over its amount refuse the call: `{1 | 2, limit,
    /// count, wait}` or `{3, budget, used}`, and nothing is granted.
    ///
    /// Granting: `want` slots or nanodollars, but no more than a sixteenth of what the rule has
    /// left (`LeaseBook.capDivisor`), and at least what a needing call takes (one slot, its
    /// estimate). Returns `{0, second, (granted, first slot, requests, tokens) per limit…,
    /// (granted, spent, in flight) per budget…}`.
    static let syncScript = windowFunctions + "\n" + """
        local i = 1
        local L, B = {}, {}
        local nl = tonumber(ARGV[i]); i = i + 1
        for l = 1, nl do
          local o = {id = ARGV[i], rpm = tonumber(ARGV[i + 1]), tpm = tonumber(ARGV[i + 2]), need = ARGV[i + 3] == '1',
                     want = tonumber(ARGV[i + 4]), tokens = tonumber(ARGV[i + 5])}
          local nr = tonumber(ARGV[i + 6]); i = i + 7
          o.rk = 'plumb:w:' .. o.id .. ':r'; o.tk = 'plumb:w:' .. o.id .. ':t'
          o.r = 0
          if o.rpm > 0 then o.r = advance(o.rk) end
          for k = 1, nr do
            local s, n = tonumber(ARGV[i]), tonumber(ARGV[i + 1]); i = i + 2
            if o.rpm > 0 and s <= now and now - s < 60 then
              local f = tostring(s % 60)
              local c = tonumber(redis.call('HGET', o.rk, f) or '0')
              if n > c then n = c end
              if n > 0 then redis.call('HINCRBY', o.rk, f, -n); redis.call('HINCRBY', o.rk, 'sum', -n); o.r = o.r - n end
            end
          end
          o.t = 0
          if o.tpm > 0 or o.tokens > 0 then o.t = advance(o.tk) end
          if o.tokens > 0 then add(o.tk, o.tokens); o.t = o.t + o.tokens end
          L[l] = o
        end
        local nb = tonumber(ARGV[i]); i = i + 1
        for b = 1, nb do
          local o = {id = ARGV[i], amount = tonumber(ARGV[i + 1]), need = ARGV[i + 2] == '1', estimate = tonumber(ARGV[i + 3]),
                     want = tonumber(ARGV[i + 4]), spent = tonumber(ARGV[i + 5]), release = tonumber(ARGV[i + 6]),
                     fttl = ARGV[i + 7], sttl = ARGV[i + 8]}
          i = i + 9
          o.sk = 'plumb:bs:' .. o.id; o.fk = 'plumb:bf:' .. o.id
          if o.spent ~= 0 then redis.call('INCRBY', o.sk, o.spent); redis.call('EXPIRE', o.sk, o.sttl) end
          if o.release ~= 0 then redis.call('DECRBY', o.fk, o.release) end
          o.s = tonumber(redis.call('GET', o.sk) or '0')
          o.f = tonumber(redis.call('GET', o.fk) or '0')
          if o.f < 0 then o.f = 0 end
          B[b] = o
        end
        for l, o in ipairs(L) do
          if o.need then
            if o.rpm > 0 and o.r >= o.rpm then return {1, l, o.r, wait(o.rk, o.r, o.rpm)} end
            if o.tpm > 0 and o.t >= o.tpm then return {2, l, o.t, wait(o.tk, o.t, o.tpm)} end
          end
        end
        for b, o in ipairs(B) do
          if o.need and o.s + o.f >= o.amount then return {3, b, o.s + o.f} end
        end
        local out = {0, now}
        for _, o in ipairs(L) do
          local g, first = 0, o.r + 1
          if o.rpm > 0 then
            g = math.min(o.want, math.floor((o.rpm - o.r) / 16))
            if o.need and g < 1 then g = 1 end
            if g > 0 then add(o.rk, g); o.r = o.r + g end
          end
          out[#out + 1] = g; out[#out + 1] = first; out[#out + 1] = o.r; out[#out + 1] = o.t
        end
        for _, o in ipairs(B) do
          local g = math.min(o.want, math.floor((o.amount - o.s - o.f) / 16))
          if g < 0 then g = 0 end
          if o.need and g < o.estimate then g = o.estimate end
          if g > 0 then redis.call('INCRBY', o.fk, g); redis.call('EXPIRE', o.fk, o.fttl); o.f = o.f + g end
          out[#out + 1] = g; out[#out + 1] = o.s; out[#out + 1] = o.f
        end
        return out
        """
}
