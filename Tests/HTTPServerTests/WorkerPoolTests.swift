import Foundation
import Synchronization
import Testing
@testable import HTTPServer

@Suite("Worker pool")
struct WorkerPoolTests {
    /// Jobs queued in bursts from several threads, while every thread is busy or while a woken thread has not
    /// yet taken its job, are all run; an idle pool wakes for a single job; after shutdown nothing is taken.
    @Test func runsEveryJob_whenSubmittedInBurstsFromSeveralThreads() throws {
        let pool = WorkerPool(threads: 3, maxQueue: 100_000, name: "test-worker")
        let done = Atomic<Int>(0)
        let submitters = 4, perSubmitter = 5_000
        let refused = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: submitters) { _ in
            for i in 0..<perSubmitter {
                let accepted = pool.trySubmit {
                    if i % 500 == 0 { Thread.sleep(forTimeInterval: 0.001) }   // threads busy for a moment now and then
                    done.add(1, ordering: .relaxed)
                }
                if !accepted { refused.add(1, ordering: .relaxed) }
            }
        }
        let deadline = Date().addingTimeInterval(30)
        while done.load(ordering: .relaxed) < submitters * perSubmitter, Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        #expect(refused.load(ordering: .relaxed) == 0)
        #expect(done.load(ordering: .relaxed) == submitters * perSubmitter)
        // Idle threads wake for a single job too.
        for _ in 0..<20 {
            let before = done.load(ordering: .relaxed)
            #expect(pool.trySubmit { done.add(1, ordering: .relaxed) })
            let until = Date().addingTimeInterval(5)
            while done.load(ordering: .relaxed) == before, Date() < until { Thread.sleep(forTimeInterval: 0.001) }
            #expect(done.load(ordering: .relaxed) == before + 1)
        }
        pool.shutdown(deadline: Date().addingTimeInterval(10))
        #expect(pool.busy == 0)
        #expect(!pool.trySubmit {})
    }
}
