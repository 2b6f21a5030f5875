import NIOCore
import PlumbCore

/// Enforces the client connections' timeouts on one event loop: once a second it asks each of
/// the loop's connections whether what it waits for (a head, the rest of a body) is overdue.
/// A request then costs a clock read where its state changes, not a timer scheduled and
/// cancelled; the price is up to a second of lateness on a limit of several.
///
/// ```swift
/// let sweeper = ConnectionSweeper(eventLoop: loop)    // one per loop, in ProxyCore
/// sweeper.add(handler, context)                       // channelActive
/// sweeper.remove(handler)                             // channelInactive
/// ```
final class ConnectionSweeper: @unchecked Sendable {   // state touched on `eventLoop` only
    let eventLoop: EventLoop
    private var connections: [ObjectIdentifier: (handler: ProxyConnectionHandler, context: ChannelHandlerContext)] = [:]
    private var task: RepeatedTask?

    init(eventLoop: EventLoop) { self.eventLoop = eventLoop }

    func add(_ handler: ProxyConnectionHandler, _ context: ChannelHandlerContext) {
        eventLoop.preconditionInEventLoop()
        connections[ObjectIdentifier(handler)] = (handler, context)
        if task == nil {
            task = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [self] _ in sweep() }
        }
    }

    func remove(_ handler: ProxyConnectionHandler) {
        eventLoop.preconditionInEventLoop()
        connections.removeValue(forKey: ObjectIdentifier(handler))
    }

    private func sweep() {
        guard !connections.isEmpty else { return }
        let now = Monotonic.nanos()
        // A copy: a connection closed by its check leaves the dictionary as it goes.
        for (handler, context) in connections.values { handler.checkTimeout(now: now, context: context) }
    }

    func stop() {
        eventLoop.execute { [self] in task?.cancel(); task = nil; connections.removeAll() }
    }
}
