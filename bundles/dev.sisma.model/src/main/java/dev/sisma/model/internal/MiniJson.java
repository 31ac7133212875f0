package dev.sisma.model.internal;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads and writes the flat JSON objects of model config files: one object whose values are
 * strings, numbers, booleans or null. (The engine's JSON parser is private to its io package;
 * configs need only this flat subset, so a nested value is reported as an error naming its key.)
 */
public final class MiniJson {
    private final String s;
    private int pos;

    private MiniJson(String s) {
        this.s = s;
    }

    /** A syntax error with the line and column where it happened. */
    public static final class SyntaxException extends Exception {
        private static final long serialVersionUID = 1L;

        SyntaxException(String message) {
            super(message);
        }
    }

    /** Parses a flat object; values are String, Double/Long (integers without fraction), Boolean, or null. */
    public static Map<String, Object> parseObject(String text) throws SyntaxException {
        MiniJson p = new MiniJson(text);
        p.ws();
        p.expect('{');
        Map<String, Object> out = new LinkedHashMap<>();
        p.ws();
        if (p.peek() == '}') {
            p.pos++;
        } else {
            while (true) {
                p.ws();
                String key = p.string();
                p.ws();
                p.expect(':');
                p.ws();
                Object v = p.value(key);
                if (out.containsKey(key)) {
                    throw p.error("duplicate key \"" + key + "\"");
                }
                out.put(key, v);
                p.ws();
                char c = p.peek();
                p.pos++;
                if (c == '}') {
                    break;
                }
                if (c != ',') {
                    p.pos--;
                    throw p.error("expected ',' or '}'");
                }
            }
        }
        p.ws();
        if (p.pos != text.length()) {
            throw p.error("unexpected text after the object");
        }
        return out;
    }

    /** Writes a flat object, one key per line, in map order. */
    public static String write(Map<String, Object> map) {
        StringBuilder b = new StringBuilder("{\n");
        int i = 0;
        for (Map.Entry<String, Object> e : map.entrySet()) {
            b.append("  ").append(quote(e.getKey())).append(": ");
            Object v = e.getValue();
            if (v == null) {
                b.append("null");
            } else if (v instanceof String str) {
                b.append(quote(str));
            } else if (v instanceof Double d) {
                b.append(d == Math.rint(d) && Math.abs(d) < 1e15 ? String.valueOf(d) : Double.toString(d));
            } else {
                b.append(v);
            }
            b.append(++i < map.size() ? ",\n" : "\n");
        }
        return b.append("}\n").toString();
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                case '\r' -> b.append("\\r");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    private Object value(String key) throws SyntaxException {
        char c = peek();
        if (c == '"') {
            return string();
        }
        if (c == '{' || c == '[') {
            throw error("value of \"" + key + "\" must be a string, number or boolean, not " + (c == '{' ? "an object" : "an array"));
        }
        if (s.startsWith("true", pos)) {
            pos += 4;
            return Boolean.TRUE;
        }
        if (s.startsWith("false", pos)) {
            pos += 5;
            return Boolean.FALSE;
        }
        if (s.startsWith("null", pos)) {
            pos += 4;
            return null;
        }
        int start = pos;
        while (pos < s.length() && "+-0123456789.eE".indexOf(s.charAt(pos)) >= 0) {
            pos++;
        }
        String num = s.substring(start, pos);
        if (num.isEmpty()) {
            throw error("expected a value for \"" + key + "\"");
        }
        try {
            if (num.indexOf('.') < 0 && num.indexOf('e') < 0 && num.indexOf('E') < 0) {
                return Long.parseLong(num);
            }
            return Double.parseDouble(num);
        } catch (NumberFormatException e) {
            pos = start;
            throw error("bad number '" + num + "' for \"" + key + "\"");
        }
    }

    private String string() throws SyntaxException {
        expect('"');
        StringBuilder b = new StringBuilder();
        while (true) {
            if (pos >= s.length()) {
                throw error("unterminated string");
            }
            char c = s.charAt(pos++);
            if (c == '"') {
                return b.toString();
            }
            if (c == '\\') {
                if (pos >= s.length()) {
                    throw error("unterminated string");
                }
                char e = s.charAt(pos++);
                switch (e) {
                    case '"', '\\', '/' -> b.append(e);
                    case 'n' -> b.append('\n');
                    case 't' -> b.append('\t');
                    case 'r' -> b.append('\r');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'u' -> {
                        if (pos + 4 > s.length()) {
                            throw error("bad \\u escape");
                        }
                        try {
                            b.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                        } catch (NumberFormatException ex) {
                            throw error("bad \\u escape");
                        }
                        pos += 4;
                    }
                    default -> throw error("bad escape \\" + e);
                }
            } else {
                b.append(c);
            }
        }
    }

    private char peek() throws SyntaxException {
        if (pos >= s.length()) {
            throw error("unexpected end of file");
        }
        return s.charAt(pos);
    }

    private void expect(char c) throws SyntaxException {
        if (peek() != c) {
            throw error("expected '" + c + "'");
        }
        pos++;
    }

    private void ws() {
        while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
            pos++;
        }
    }

    private SyntaxException error(String what) {
        int line = 1, col = 1;
        for (int i = 0; i < Math.min(pos, s.length()); i++) {
            if (s.charAt(i) == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        return new SyntaxException("line " + line + ", column " + col + ": " + what);
    }
}
