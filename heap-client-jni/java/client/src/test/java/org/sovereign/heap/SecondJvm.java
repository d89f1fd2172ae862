package org.sovereign.heap;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;

/**
 * The other JVM of the cross-JVM lock tests: connects to the cluster named by its argument, prints
 * {@code ready}, then answers one command per line of standard input with one line:
 * {@code read ROOT KEY} (getLong outside any lock), {@code trylock LOCK MS} (true/false; released at
 * once), {@code lockread LOCK ROOT KEY} and {@code lockset LOCK ROOT KEY VALUE} (under the lock),
 * {@code unkept PREFIX} ({@link HeapClient#setLocksKept} false).
 */
public final class SecondJvm {
    private SecondJvm() {}

    public static void main(String[] args) throws Exception {
        try (HeapClient client = HeapClient.connect(args[0]);
                BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            System.out.println("ready");
            String line;
            while ((line = commands.readLine()) != null) {
                String[] word = line.trim().split(" ");
                try {
                    System.out.println(run(client, word));
                } catch (RuntimeException e) {
                    System.out.println("error " + e);
                }
            }
        }
    }

    private static String run(HeapClient client, String[] word) throws InterruptedException {
        switch (word[0]) {
            case "read":
                return Long.toString(client.root(word[1]).getLong(word[2]));
            case "trylock": {
                Lock lock = client.lock(word[1]);
                boolean granted = lock.tryLock(Long.parseLong(word[2]), TimeUnit.MILLISECONDS);
                if (granted) {
                    lock.unlock();
                }
                return Boolean.toString(granted);
            }
            case "lockread": {
                Lock lock = client.lock(word[1]);
                lock.lock();
                try {
                    return Long.toString(client.root(word[2]).getLong(word[3]));
                } finally {
                    lock.unlock();
                }
            }
            case "lockset": {
                Lock lock = client.lock(word[1]);
                lock.lock();
                try {
                    client.root(word[2]).set(word[3], Long.parseLong(word[4]));
                } finally {
                    lock.unlock();
                }
                return "ok";
            }
            case "unkept":
                client.setLocksKept(word[1], false);
                return "ok";
            default:
                return "error unknown command " + word[0];
        }
    }
}
