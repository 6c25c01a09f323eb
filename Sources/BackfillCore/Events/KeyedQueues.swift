/// A first-in, first-out queue: appends at the back, takes from the front, both O(1) amortized.
struct FIFO<Element>: Sendable where Element: Sendable {
    private var items: [Element] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }
    var count: Int { items.count - head }
    var first: Element? { isEmpty ? nil : items[head] }

    mutating func append(_ item: Element) { items.append(item) }

    /// Replaces the first item; `false` when the queue is empty.
    mutating func replaceFirst(_ item: Element) -> Bool {
        guard !isEmpty else { return false }
        items[head] = item
        return true
    }

    mutating func popFirst() -> Element? {
        guard !isEmpty else { return nil }
        let item = items[head]
        head += 1
        // Taken items are dropped once they are at least half the storage (amortized O(1)):
        // they would otherwise hold on to what they reference.
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 16, head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return item
    }
}

/// Items waiting in one queue per key: each key's items go one at a time and in order; the keys'
/// heads are offered in the order they became ready.
///
/// A key is *out* from `take()` until `done(key:)` (its head is finished; the next one becomes
/// ready) or `again(key:)` (its head is offered again, after a retry's delay).
struct KeyedQueues<Item: Sendable>: Sendable {
    private var queues: [Value: FIFO<Item>] = [:]
    private var ready = FIFO<Value>()
    /// Items queued, out ones included.
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }
    /// Whether an item can be taken now.
    var hasReady: Bool { !ready.isEmpty }

    mutating func append(_ item: Item, key: Value) {
        count += 1
        if queues[key] == nil {
            queues[key] = FIFO()
            ready.append(key)
        }
        queues[key]!.append(item)
    }

    /// The head of the key that has been ready longest; its key is out until `done` or `again`.
    mutating func take() -> (key: Value, item: Item)? {
        guard let key = ready.popFirst(), let item = queues[key]?.first else { return nil }
        return (key, item)
    }

    /// The key's head is finished: the key's next item, if any, becomes ready.
    mutating func done(key: Value) {
        guard queues[key]?.popFirst() != nil else { return }
        count -= 1
        if queues[key]!.isEmpty {
            queues[key] = nil
        } else {
            ready.append(key)
        }
    }

    /// The key's head, out until now, is offered again as `head` (the same item, updated).
    mutating func again(key: Value, head: Item) {
        guard queues[key]?.replaceFirst(head) == true else { return }
        ready.append(key)
    }
}
