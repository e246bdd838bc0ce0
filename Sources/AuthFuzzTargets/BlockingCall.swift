import Foundation

/// Runs async parser code to completion from the fuzzer's synchronous callback (libFuzzer
/// calls `LLVMFuzzerTestOneInput` on its own thread and needs the answer before it returns).
func blockingCall<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let outcome = BlockingCallOutcome<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { outcome.result = .success(try await body()) } catch { outcome.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try outcome.result!.get()
}

/// Written by the task before it signals, read by the caller after the wait: never at once.
private final class BlockingCallOutcome<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
