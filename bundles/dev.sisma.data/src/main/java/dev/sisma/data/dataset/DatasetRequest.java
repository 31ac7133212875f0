package dev.sisma.data.dataset;

import java.nio.file.Path;
import java.util.Map;

/**
 * What to open: {@code location} is the dataset's folder (null for generated data), {@code seed}
 * is for generated data, {@code options} are provider-specific (e.g. {@code count} for synthetic).
 */
public record DatasetRequest(Path location, Split split, long seed, Map<String, String> options) {
    public DatasetRequest {
        options = Map.copyOf(options);
    }

    public static DatasetRequest of(Path location, Split split) {
        return new DatasetRequest(location, split, 0, Map.of());
    }

    /** An integer option, or {@code fallback} when absent. */
    public int intOption(String name, int fallback) {
        String v = options.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("dataset option " + name + " needs an integer, got '" + v + "'");
        }
    }
}
