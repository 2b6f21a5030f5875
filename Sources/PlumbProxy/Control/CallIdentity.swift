/// Who a call is for, as budgets and limits see it: the Plumb key it presented, the provider
/// key's fingerprint, the user, the properties, the provider and the model asked for.
struct CallIdentity: Sendable {
    var keyName: String?
    var apiKeyHash: String?
    var userID: String?
    var properties: [String: String] = [:]
    var provider: String
    var model: String?
}
