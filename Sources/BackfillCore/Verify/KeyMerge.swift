/// Walks two key-ordered sequences, read a page at a time from each side (both sides at once), and
/// hands over the elements of both in groups that can be merge-joined on their own: every element
/// of one side whose key the other side has is in the same group as its partner.
struct KeyMerge<Element: Sendable> {
    let key: @Sendable (Element) -> [Value]
    /// The page after a key (`nil`: the first one); shorter than `pageSize` when it is the last.
    let source: @Sendable ([Value]?) async throws -> [Element]
    let target: @Sendable ([Value]?) async throws -> [Element]
    let pageSize: Int

    /// Calls `body` with each group of source and target elements, in key order, and how many
    /// elements each side read since the last call.
    func run(_ body: ([Element], [Element], Int, Int) async throws -> Void) async throws {
        var sourcePage: [Element] = [], targetPage: [Element] = []
        var sourceAt = 0, targetAt = 0
        var sourceDone = false, targetDone = false
        var sourceAfter: [Value]?, targetAfter: [Value]?
        while true {
            var sourceRead = 0, targetRead = 0
            let needSource = sourceAt == sourcePage.count && !sourceDone
            let needTarget = targetAt == targetPage.count && !targetDone
            let (fromSource, fromTarget) = (sourceAfter, targetAfter)
            async let nextSource: [Element]? = needSource ? source(fromSource) : nil
            async let nextTarget: [Element]? = needTarget ? target(fromTarget) : nil
            if let page = try await nextSource {
                (sourcePage, sourceAt, sourceDone, sourceRead) = (page, 0, page.count < pageSize, page.count)
                sourceAfter = page.last.map(key) ?? sourceAfter
            }
            if let page = try await nextTarget {
                (targetPage, targetAt, targetDone, targetRead) = (page, 0, page.count < pageSize, page.count)
                targetAfter = page.last.map(key) ?? targetAfter
            }
            if sourceAt == sourcePage.count && targetAt == targetPage.count {
                if sourceRead + targetRead > 0 { try await body([], [], sourceRead, targetRead) }
                break
            }
            // Merge while both pages have elements, or one side is exhausted for good.
            var groupSource: [Element] = [], groupTarget: [Element] = []
            while sourceAt < sourcePage.count || targetAt < targetPage.count {
                if sourceAt == sourcePage.count && !sourceDone { break }
                if targetAt == targetPage.count && !targetDone { break }
                let order =
                    sourceAt == sourcePage.count ? 1
                    : targetAt == targetPage.count ? -1 : KeyOrder.compare(key(sourcePage[sourceAt]), key(targetPage[targetAt]))
                if order <= 0 { groupSource.append(sourcePage[sourceAt]); sourceAt += 1 }
                if order >= 0 { groupTarget.append(targetPage[targetAt]); targetAt += 1 }
            }
            try await body(groupSource, groupTarget, sourceRead, targetRead)
        }
    }
}
