package dev.sisma.engine.cpu.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The worker team: every task of every run runs exactly once and before run returns, on the
 * caller and the workers; a task's exception reaches the caller after the other tasks finished and
 * leaves the pool usable; a run from inside a task runs in place; several callers share one pool;
 * close ends the workers, and so does dropping a pool nobody closed.
 */
@Timeout(60)
class ParallelTest {
    @Test
    void everyTaskRunsOnceBeforeRunReturns() {
        try (Parallel par = new Parallel(3)) {
            Set<String> threads = ConcurrentHashMap.newKeySet();
            for (int run = 0; run < 2000; run++) {
                int n = 1 + run % 13;
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                par.run(n, i -> {
                    hits.incrementAndGet(i);
                    threads.add(Thread.currentThread().getName());
                    if (i % 5 == 0) Thread.onSpinWait();
                });
                for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "run " + run + " task " + i);
            }
            assertTrue(threads.contains(Thread.currentThread().getName()), "the caller takes part: " + threads);
            assertTrue(threads.size() > 1, "workers take part: " + threads);
        }
    }

    @Test
    void aTaskFailureReachesTheCallerAfterTheOthersFinish() {
        try (Parallel par = new Parallel(2)) {
            AtomicIntegerArray done = new AtomicIntegerArray(8);
            IllegalArgumentException thrown = new IllegalArgumentException("task 3");
            IllegalArgumentException caught = assertThrows(IllegalArgumentException.class, () -> par.run(8, i -> {
                if (i == 3) throw thrown;
                sleep(5);
                done.set(i, 1);
            }));
            assertSame(thrown, caught);
            for (int i = 0; i < 8; i++) assertEquals(i == 3 ? 0 : 1, done.get(i), "task " + i + " finished before run returned");
            AtomicIntegerArray again = new AtomicIntegerArray(8);
            par.run(8, again::incrementAndGet);
            for (int i = 0; i < 8; i++) assertEquals(1, again.get(i));
        }
    }

    @Test
    void aRunInsideATaskRunsInPlace() {
        try (Parallel par = new Parallel(2)) {
            AtomicIntegerArray inner = new AtomicIntegerArray(4 * 5);
            par.run(4, i -> {
                String me = Thread.currentThread().getName();
                par.run(5, j -> {
                    assertEquals(me, Thread.currentThread().getName());
                    inner.incrementAndGet(i * 5 + j);
                });
            });
            for (int i = 0; i < 20; i++) assertEquals(1, inner.get(i));
        }
    }

    @Test
    void callersOnSeveralThreadsShareThePool() throws Exception {
        try (Parallel par = new Parallel(2)) {
            List<Thread> callers = new ArrayList<>();
            AtomicIntegerArray sums = new AtomicIntegerArray(4);
            for (int c = 0; c < 4; c++) {
                int id = c;
                callers.add(Thread.ofPlatform().start(() -> {
                    for (int run = 0; run < 300; run++) par.run(7, i -> sums.addAndGet(id, i + 1));
                }));
            }
            for (Thread t : callers) t.join();
            for (int c = 0; c < 4; c++) assertEquals(300 * 28, sums.get(c));
        }
    }

    @Test
    void closeEndsTheWorkers() throws Exception {
        Parallel par = new Parallel(3);
        par.run(6, i -> {});
        List<Thread> workers = par.workerThreads();
        assertEquals(2, workers.size());
        par.close();
        for (Thread t : workers) t.join(5_000);
        for (Thread t : workers) assertFalse(t.isAlive(), t.getName() + " still running after close");
    }

    @Test
    void anUnclosedPoolEndsItsWorkersOnceUnreachable() throws Exception {
        List<Thread> workers = unclosedPool();
        long until = System.nanoTime() + 20_000_000_000L;
        while (workers.stream().anyMatch(Thread::isAlive) && System.nanoTime() < until) {
            System.gc();
            Thread.sleep(50);
        }
        for (Thread t : workers) assertFalse(t.isAlive(), t.getName() + " still running after its pool became unreachable");
    }

    private static List<Thread> unclosedPool() {
        Parallel par = new Parallel(2);
        par.run(4, i -> {});
        return par.workerThreads();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
