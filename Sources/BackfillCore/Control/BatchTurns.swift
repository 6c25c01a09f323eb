/// One batch at a time: while the run is gentle (`health.live-traffic`), its workers take turns,
/// so the live application never competes with more than one of the run's transactions. Waiting
/// workers are let in first come, first served; a cancelled waiter leaves the line.
actor BatchTurns {
    private var taken = false
    private var line: [(id: Int, continuation: CheckedContinuation<Void, any Error>)] = []
    private var nextID = 0

    /// Workers waiting in line.
    var waiting: Int { line.count }

    /// Waits for the turn; throws `CancellationError` when the task is cancelled first.
    func take() async throws {
        guard taken else {
            taken = true
            return
        }
        nextID += 1
        let id = nextID
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    line.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.leaveLine(id) }
        }
    }

    /// Hands the turn to the next in line, or frees it.
    func give() {
        if line.isEmpty {
            taken = false
        } else {
            line.removeFirst().continuation.resume()
        }
    }

    private func leaveLine(_ id: Int) {
        guard let index = line.firstIndex(where: { $0.id == id }) else { return }
        line.remove(at: index).continuation.resume(throwing: CancellationError())
    }
}
