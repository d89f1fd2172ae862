package org.sovereign.rap;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.ByteArrayOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

/**
 * What RAP answered to one UI request, held back: the body and status are captured so the
 * recording servlet can journal the request (and its response) before anything reaches the browser,
 * or discard them in a replay. Headers reach the real response only for a live request; a replayed
 * one leaves the real response untouched.
 */
final class CapturedResponse extends HttpServletResponseWrapper {
    private final boolean live;
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();
    private PrintWriter writer;
    private ServletOutputStream stream;
    private int status = SC_OK;

    CapturedResponse(HttpServletResponse response, boolean live) {
        super(response);
        this.live = live;
    }

    /** The body written so far, decoded as UTF-8 (RAP writes JSON in UTF-8). */
    String body() {
        if (writer != null) {
            writer.flush();
        }
        return body.toString(StandardCharsets.UTF_8);
    }

    int status() {
        return status;
    }

    @Override
    public PrintWriter getWriter() {
        if (writer == null) {
            writer = new PrintWriter(new OutputStreamWriter(body, StandardCharsets.UTF_8));
        }
        return writer;
    }

    @Override
    public ServletOutputStream getOutputStream() {
        if (stream == null) {
            stream = new ServletOutputStream() {
                @Override
                public void write(int b) {
                    body.write(b);
                }

                @Override
                public void write(byte[] bytes, int offset, int length) {
                    body.write(bytes, offset, length);
                }

                @Override
                public boolean isReady() {
                    return true;
                }

                @Override
                public void setWriteListener(WriteListener listener) {
                    throw new IllegalStateException("a captured UI response is written synchronously");
                }
            };
        }
        return stream;
    }

    @Override
    public void setStatus(int status) {
        this.status = status;
    }

    @Override
    public void sendError(int status) {
        this.status = status;
    }

    @Override
    public void sendError(int status, String message) {
        this.status = status;
        body.writeBytes(String.valueOf(message).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void setContentLength(int length) {
        // The captured body is measured when it is sent.
    }

    @Override
    public void setContentLengthLong(long length) {
        // The captured body is measured when it is sent.
    }

    @Override
    public void flushBuffer() {
        // Nothing leaves before the request is journaled.
    }

    @Override
    public boolean isCommitted() {
        return false;
    }

    @Override
    public void reset() {
        resetBuffer();
        status = SC_OK;
    }

    @Override
    public void resetBuffer() {
        if (writer != null) {
            writer.flush();
        }
        body.reset();
    }

    @Override
    public void setHeader(String name, String value) {
        if (live) {
            super.setHeader(name, value);
        }
    }

    @Override
    public void addHeader(String name, String value) {
        if (live) {
            super.addHeader(name, value);
        }
    }

    @Override
    public void setIntHeader(String name, int value) {
        if (live) {
            super.setIntHeader(name, value);
        }
    }

    @Override
    public void setDateHeader(String name, long value) {
        if (live) {
            super.setDateHeader(name, value);
        }
    }

    @Override
    public void setContentType(String type) {
        if (live) {
            super.setContentType(type);
        }
    }

    @Override
    public void setCharacterEncoding(String encoding) {
        if (live) {
            super.setCharacterEncoding(encoding);
        }
    }
}
