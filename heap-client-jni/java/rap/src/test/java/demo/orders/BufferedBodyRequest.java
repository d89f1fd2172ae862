package demo.orders;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * A request whose body has been read into memory once, so a filter can log it and RAP can still
 * read it (through getInputStream, as LifeCycleServiceHandler does, or getReader).
 */
final class BufferedBodyRequest extends HttpServletRequestWrapper {
    /** RAP's UI messages are small (kilobytes); a larger body is refused rather than buffered. */
    static final int BODY_BYTES_MAX = 4 * 1024 * 1024;

    private final byte[] body;

    BufferedBodyRequest(HttpServletRequest request) throws IOException {
        super(request);
        body = request.getInputStream().readNBytes(BODY_BYTES_MAX + 1);
        if (body.length > BODY_BYTES_MAX) {
            throw new IOException("UI request body over " + BODY_BYTES_MAX + " bytes; raise BODY_BYTES_MAX");
        }
    }

    String body() {
        return new String(body, StandardCharsets.UTF_8);
    }

    @Override
    public ServletInputStream getInputStream() {
        ByteArrayInputStream in = new ByteArrayInputStream(body);
        return new ServletInputStream() {
            @Override
            public int read() {
                return in.read();
            }

            @Override
            public int read(byte[] buffer, int offset, int length) {
                return in.read(buffer, offset, length);
            }

            @Override
            public boolean isFinished() {
                return in.available() == 0;
            }

            @Override
            public boolean isReady() {
                return true;
            }

            @Override
            public void setReadListener(ReadListener listener) {
                throw new UnsupportedOperationException("the body is buffered; read it synchronously");
            }
        };
    }

    @Override
    public BufferedReader getReader() {
        return new BufferedReader(new InputStreamReader(getInputStream(), StandardCharsets.UTF_8));
    }
}
