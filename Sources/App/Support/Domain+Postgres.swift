import Domain
import Postgres

// Domain's closed sets are bound and decoded by their raw values, the column values. A stored value this
// server does not know is a decoding error (an opaque 500, logged without the value), never a default.
extension ApplicationState: PostgresCodable, PostgresArrayElement {}
extension AssignmentStatus: PostgresCodable, PostgresArrayElement {}
extension DeliveryResult: PostgresCodable, PostgresArrayElement {}
extension CompartmentState: PostgresCodable {}
extension ApprovalState: PostgresCodable {}
extension ApprovalKind: PostgresCodable {}
extension PickupMethod: PostgresCodable {}
extension DocumentType: PostgresCodable {}
extension Issuance: PostgresCodable {}
extension FeeExemption: PostgresCodable {}
extension HandoverRecipient: PostgresCodable {}
extension PickupSecondFactor: PostgresCodable {}
extension PickupFactor: PostgresCodable, PostgresArrayElement {}
extension Bundesland: PostgresCodable {}

// App's own closed sets stored in columns.
extension Role: PostgresCodable {}
