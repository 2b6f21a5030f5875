import ArgumentParser

struct DigestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "digest", abstract: "Spend digest for a day or week.")
    @OptionGroup var common: CommonOptions
    @Option(help: "day or week.") var period: String = "day"
    @Option(help: "YYYY-MM-DD.") var date: String?
    @Option(help: "text, markdown, html or json.") var format: String = "text"
    @Option(help: "Write to this file.") var out: String?
    @Option(help: "SMTP URL.") var smtp: String?
    @Option(help: "Sender address.") var from: String?
    @Option(help: "Recipient address.") var to: String?
    @Option(help: "Webhook URL.") var webhook: String?
    func run() throws { notAvailableYet("digest", issue: 6) }
}
