package org.sovereign.heap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.locks.Lock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link HeapClient#setLocksKept}: a lock kept by a JVM that is then SIGKILLed stays its dead
 * session's until the lease ends, while a lock under a prefix set not to be kept went back with
 * the commit of its critical section, so another client takes it at once and sees the changes.
 */
@Timeout(120)
class LocksKeptTest extends ClusterTest {
    @Test
    void aLockNotKeptIsFreeTheMomentItsHolderDiesAndAKeptOneIsNot() throws Exception {
        try (HeapClient survivor = HeapClient.connect(cluster.endpoints())) {
            try (ChildJvm dying = ChildJvm.start(List.of(), SecondJvm.class, cluster.endpoints())) {
                assertEquals("ready", dying.readLine());
                assertEquals("ok", dying.ask("unkept kept-test.unkept:"));
                assertEquals("ok", dying.ask("lockset kept-test.unkept:1 kept-test x 5"));
                assertEquals("ok", dying.ask("lockset kept-test.kept:1 kept-test y 6"));
            } // close() is a SIGKILL: the child's session is not ended, its lease runs on
            Lock unkept = survivor.lock("kept-test.unkept:1");
            assertTrue(unkept.tryLock(), "the dead JVM gave this lock back with its commit");
            try {
                assertEquals(5L, survivor.root("kept-test").getLong("x"), "its critical section committed");
            } finally {
                unkept.unlock();
            }
            assertFalse(survivor.lock("kept-test.kept:1").tryLock(),
                    "a kept lock stays with the dead JVM's session until its lease ends (the contrast)");
        }
    }

    @Test
    void theSettingIsBoundedAndSaysWhatToDo() {
        try (HeapClient client = HeapClient.connect(cluster.endpoints())) {
            for (int i = 0; i < 64; i++) {
                client.setLocksKept("bound-" + i + ":", false);
            }
            HeapRejectedException refused = assertThrows(HeapRejectedException.class,
                    () -> client.setLocksKept("one-more:", false));
            assertTrue(refused.getMessage().contains("prefixes"), refused.getMessage());
            client.setLocksKept("bound-0:", true);
            client.setLocksKept("one-more:", false);
        }
    }
}
