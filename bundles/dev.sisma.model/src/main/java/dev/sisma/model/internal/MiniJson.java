package dev.sisma.model.internal;

import java.util.LinkedHashMap;
import java.util.Map;

import dev.sisma.engine.io.Json;

/**
 * The flat JSON objects of model config files: one object whose values are strings, numbers,
 * booleans or null. Parsing is the engine's strict {@link Json} parser; this class only maps its
 * values to Java types and reports a nested value as an error naming its key.
 */
public final class MiniJson {
    private MiniJson() {
    }

    /** A syntax error, or a value configs cannot hold. */
    public static final class SyntaxException extends Exception {
        private static final long serialVersionUID = 1L;

        SyntaxException(String message) {
            super(message);
        }
    }

    /** Parses a flat object; values are String, Long (integers), Double, Boolean, or null. */
    public static Map<String, Object> parseObject(String text) throws SyntaxException {
        Object root;
        try {
            root = Json.parse(text);
        } catch (Json.ParseException e) {
            // Config files are edited by hand: say where as line and column.
            int line = 1;
            int column = 1;
            for (int i = 0; i < e.position() && i < text.length(); i++) {
                if (text.charAt(i) == '\n') {
                    line++;
                    column = 1;
                } else {
                    column++;
                }
            }
            throw new SyntaxException("line " + line + ", column " + column + ": " + e.problem());
        }
        if (!(root instanceof Map<?, ?> map)) {
            throw new SyntaxException("expected a JSON object");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = (String) e.getKey();
            out.put(key, value(key, e.getValue()));
        }
        return out;
    }

    private static Object value(String key, Object v) throws SyntaxException {
        if (v == Json.NULL) {
            return null;
        }
        if (v instanceof Json.Num num) {
            if (num.isInteger()) {
                try {
                    return Long.parseLong(num.text());
                } catch (NumberFormatException tooLarge) {
                    return num.doubleValue();
                }
            }
            return num.doubleValue();
        }
        if (v instanceof String || v instanceof Boolean) {
            return v;
        }
        throw new SyntaxException("value of \"" + key + "\" must be a string, number or boolean, not "
                + (v instanceof Map ? "an object" : "an array"));
    }

    /** Writes a flat object, one key per line, in map order. */
    public static String write(Map<String, Object> map) {
        StringBuilder b = new StringBuilder("{\n");
        int i = 0;
        for (Map.Entry<String, Object> e : map.entrySet()) {
            b.append("  ");
            Json.quote(b, e.getKey());
            b.append(": ");
            Object v = e.getValue();
            if (v == null) {
                b.append("null");
            } else if (v instanceof String str) {
                Json.quote(b, str);
            } else {
                b.append(v);
            }
            b.append(++i < map.size() ? ",\n" : "\n");
        }
        return b.append("}\n").toString();
    }
}
