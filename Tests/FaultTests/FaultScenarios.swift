import Foundation
import Testing

/// The fault suite (docs/ARCHITECTURE.md#faults): each scenario starts real processes, injects a fault, checks the
/// invariants in PostgreSQL and prints its figures (`[fault] …` lines). One at a time: they load the
/// machine's two cores. The scenarios are in `FaultScenarios+*.swift`.
@Suite("Fault suite", .serialized, .enabled(if: FaultSuite.enabled, "the fault suite runs in `make test` (PICKUPBOX_FAULTS=1), several minutes"))
struct FaultScenarios {}
