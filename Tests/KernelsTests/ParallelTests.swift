// Parallel.forEachChunk's dynamic split (every index once, chunks fixed by the count) and the free-core
// sampler's rule for niced processes.
import Synchronization
import Testing
import Kernels

@Suite struct ParallelTests {
    @Test(arguments: [0, 1, 7, 8, 9, 63, 64, 1000, 4099])
    func everyIndexRunsOnce(count: Int) {
        for minimum in [1, 3, 64] {
            let seen = Mutex<[Range<Int>]>([])
            Parallel.forEachChunk(count, minimumPerChunk: minimum) { range in seen.withLock { $0.append(range) } }
            let ranges = seen.withLock { $0 }.sorted { $0.lowerBound < $1.lowerBound }
            // Contiguous, in order, covering 0..<count once.
            #expect(ranges.flatMap { Array($0) } == Array(0..<count), "count \(count), minimum \(minimum)")
            #expect(ranges.count <= Parallel.maximumChunks)
            // Only the last chunk may fall below the minimum (one range inline when the count is below two chunks).
            #expect(ranges.dropLast().allSatisfy { $0.count >= minimum })
        }
    }

    @Test func nicedTimeIsFreeForANormalPriorityProcess() {
        // user 10, nice 100, system 5, idle 50, iowait 3, irq 1, softirq 2, steal 4
        let line: [UInt64] = [10, 100, 5, 50, 3, 1, 2, 4]
        #expect(MachineLoad.busyTicks(line, countingNice: false) == 22)
        #expect(MachineLoad.busyTicks(line, countingNice: true) == 122)
    }
}
