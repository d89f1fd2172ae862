package demo.orders;

import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;

/**
 * A response that passes everything through and keeps a copy of what was written through its
 * writer (RAP writes its JSON messages, errors included, with getWriter()), so a filter can log it.
 */
final class CapturingResponse extends HttpServletResponseWrapper {
    /** Keeps at most this many characters of a response; the rest still reaches the browser. */
    static final int CAPTURED_CHARS_MAX = 4 * 1024 * 1024;

    private final StringWriter copy = new StringWriter();
    private PrintWriter writer;

    CapturingResponse(HttpServletResponse response) {
        super(response);
    }

    @Override
    public PrintWriter getWriter() throws IOException {
        if (writer == null) {
            Writer target = super.getWriter();
            writer = new PrintWriter(new Writer() {
                @Override
                public void write(char[] buffer, int offset, int length) throws IOException {
                    target.write(buffer, offset, length);
                    int room = CAPTURED_CHARS_MAX - copy.getBuffer().length();
                    copy.write(buffer, offset, Math.max(0, Math.min(length, room)));
                }

                @Override
                public void flush() throws IOException {
                    target.flush();
                }

                @Override
                public void close() throws IOException {
                    target.close();
                }
            });
        }
        return writer;
    }

    @Override
    public void flushBuffer() throws IOException {
        if (writer != null) {
            writer.flush();
        }
        super.flushBuffer();
    }

    String captured() {
        return copy.toString();
    }
}
