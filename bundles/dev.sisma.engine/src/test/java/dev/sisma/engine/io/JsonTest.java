package dev.sisma.engine.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void parsesAllValueKinds() throws Exception {
        Object v = Json.parse(" {\"s\":\"a\\\"b\\\\c\\/\\n\\u00e9\\ud83d\\ude00\",\"n\":[0,-1,2.5e-3,1E+2],"
                + "\"t\":true,\"f\":false,\"z\":null,\"o\":{},\"l\":[]} ");
        Map<?, ?> m = (Map<?, ?>) v;
        assertEquals("a\"b\\c/\n\u00e9\uD83D\uDE00", m.get("s"));
        assertEquals(List.of(new Json.Num("0"), new Json.Num("-1"), new Json.Num("2.5e-3"), new Json.Num("1E+2")), m.get("n"));
        assertEquals(Boolean.TRUE, m.get("t"));
        assertEquals(Boolean.FALSE, m.get("f"));
        assertEquals(Json.NULL, m.get("z"));
        assertEquals(Map.of(), m.get("o"));
        assertEquals(List.of(), m.get("l"));
        assertEquals(List.of("s", "n", "t", "f", "z", "o", "l"), List.copyOf(m.keySet()));
        assertTrue(new Json.Num("12").isInteger());
        assertTrue(!new Json.Num("1e2").isInteger());
    }

    @Test
    void rejects() {
        for (String bad : new String[] {"", "-", "1.", ".5", "+1", "[1 2]", "{\"a\" 1}", "\"abc", "nul", "[1,]",
                "\"\\u12\"", "{\"a\":1}}"}) {
            assertThrows(Json.ParseException.class, () -> Json.parse(bad), bad);
        }
    }

    @Test
    void quoteRoundTrips() throws Exception {
        String s = "q\"b\\n\n\t\u0001\u00e9";
        StringBuilder sb = new StringBuilder();
        Json.quote(sb, s);
        assertEquals(s, Json.parse(sb.toString()));
    }
}
