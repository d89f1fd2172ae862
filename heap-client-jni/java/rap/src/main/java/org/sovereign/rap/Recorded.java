package org.sovereign.rap;

import jakarta.servlet.http.HttpSession;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.Serializable;
import java.util.Base64;
import java.util.Objects;
import java.util.function.Supplier;
import org.eclipse.rap.rwt.RWT;
import org.eclipse.rap.rwt.service.UISession;
import org.sovereign.heap.HeapClient;

/**
 * What UI code calls so that its UI session can be rebuilt on another server by replaying its
 * recorded requests, without doing twice what the user did once. Call it from UI code (the UI
 * thread of a UI session served by {@link RecordingServlet}).
 *
 * <ul>
 *   <li>{@link #once}: an effect on shared state (place an order on the heap, send a mail). Live it
 *       runs, and its heap changes commit atomically with the request's journal entry; its result is
 *       recorded. Replayed it does not run: it returns the recorded result.
 *   <li>{@link #input}: a value that would differ in a replay (the clock, a random number, a read of
 *       shared state that the screen shows, a file). Live it is computed and recorded; replayed it is
 *       the recorded value.
 * </ul>
 *
 * A replay whose calls differ from the recorded ones (another name, another order, more or fewer)
 * has diverged: the UI session ends with a message in the browser, never a wrong screen. Outside a
 * recorded UI session (no {@link RecordingServlet}, e.g. in unit tests) both just run.
 */
public final class Recorded {
    private Recorded() {
    }

    /**
     * Runs {@code effect} once per UI request, ever: live it runs (its heap work as part of the
     * request's transaction) and its result is recorded; in a replay it returns that result instead.
     *
     * @param name names the call in the journal; a replay must make the same calls in the same order
     * @throws ReplayDivergedException in a replay whose calls differ from the recorded ones
     */
    public static <T extends Serializable> T once(String name, Supplier<T> effect) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(effect, "effect");
        RecordingContext context = current();
        if (context == null) {
            return effect.get();
        }
        if (context.replaying()) {
            return decode(context.take(name), context);
        }
        return HeapClient.actingAs(context.heapThreadId(), () -> {
            context.beforeEffect();
            T value = effect.get();
            context.record(name, encode(name, value, context));
            return value;
        });
    }

    /**
     * A value that differs between runs (clock, randomness, I/O, shared state shown on screen): live
     * it is {@code supplier}'s and is recorded; in a replay it is the recorded one.
     *
     * @throws ReplayDivergedException in a replay whose calls differ from the recorded ones
     */
    public static <T extends Serializable> T input(String name, Supplier<T> supplier) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(supplier, "supplier");
        RecordingContext context = current();
        if (context == null) {
            return supplier.get();
        }
        if (context.replaying()) {
            return decode(context.take(name), context);
        }
        T value = supplier.get();
        context.record(name, encode(name, value, context));
        return value;
    }

    /** True while the calling UI code runs in a replay (it should then do nothing but UI work). */
    public static boolean replaying() {
        RecordingContext context = current();
        return context != null && context.replaying();
    }

    /** The heap client of the web application's recorder, for the application's shared state. */
    public static HeapClient heap() {
        return Recorder.current().heap();
    }

    private static RecordingContext current() {
        UISession uiSession;
        try {
            uiSession = RWT.getUISession();
        } catch (IllegalStateException notInUiCode) {
            return null;
        }
        HttpSession http = uiSession == null ? null : uiSession.getHttpSession();
        return http instanceof LocalHttpSession local ? local.recording() : null;
    }

    private static String encode(String name, Serializable value, RecordingContext context) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(value);
        } catch (IOException e) {
            throw new RapException("the value of Recorded \"" + name + "\" in UI request " + context.counter()
                    + " cannot be serialized (" + e + "); return a Serializable value whose fields are too", e);
        }
        return Base64.getEncoder().encodeToString(bytes.toByteArray());
    }

    @SuppressWarnings("unchecked")
    private static <T> T decode(String encoded, RecordingContext context) {
        byte[] bytes = Base64.getDecoder().decode(encoded);
        try (ObjectInputStream in = new WebappObjectInputStream(new ByteArrayInputStream(bytes))) {
            return (T) in.readObject();
        } catch (IOException | ClassNotFoundException | ClassCastException e) {
            throw context.diverged("a recorded value cannot be read back (" + e + ")");
        }
    }

    /** Resolves classes with the web application's class loader (the UI thread's context loader). */
    private static final class WebappObjectInputStream extends ObjectInputStream {
        WebappObjectInputStream(InputStream in) throws IOException {
            super(in);
        }

        @Override
        protected Class<?> resolveClass(ObjectStreamClass description) throws IOException, ClassNotFoundException {
            ClassLoader loader = Thread.currentThread().getContextClassLoader();
            if (loader == null) {
                return super.resolveClass(description);
            }
            return Class.forName(description.getName(), false, loader);
        }
    }
}
