import PlumbCore

/// A Slack incoming-webhook message (also understood by Mattermost and others): `text` as the
/// fallback and a header plus mrkdwn sections (Slack's Block Kit).
enum SlackMessage {
    static func render(_ d: Digest) -> String {
        let doc = DigestDocument(d)
        var sections: [String] = []
        for s in doc.sections.prefix(6) {
            var lines = ["*\(s.title)*"]
            for b in s.blocks {
                switch b {
                case .note(let n): lines.append(n)
                case .figures(let f): lines += f.map { "• \($0.label): *\($0.value)*" + ($0.note.map { " (\($0))" } ?? "") }
                case .table(let t): lines += t.rows.prefix(5).map { "• " + $0.filter { !$0.isEmpty }.joined(separator: " · ") }
                }
            }
            sections.append(String(lines.joined(separator: "\n").prefix(2900)))   // Slack's limit is 3,000 characters a section
        }
        var w = JSONWriter()
        w.raw("{\"text\":"); w.string(DigestDelivery.subject(d))
        w.raw(",\"blocks\":[{\"type\":\"header\",\"text\":{\"type\":\"plain_text\",\"text\":"); w.string(String(doc.title.prefix(150)))
        w.raw("}}")
        for s in sections {
            w.raw(",{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":"); w.string(s); w.raw("}}")
        }
        w.raw("]}\n")
        return String(decoding: w.bytes, as: UTF8.self)
    }
}
