package dev.sisma.data.dataset;

/** Which part of a dataset: CelebAMask-HQ's standard split is train = ids below 28000, test = ids 28000 and up. */
public enum Split {
    TRAIN, TEST, ALL;

    /** Parses {@code train}, {@code test} or {@code all}, ignoring case. */
    public static Split parse(String s) {
        for (Split v : values()) {
            if (v.name().equalsIgnoreCase(s)) {
                return v;
            }
        }
        throw new IllegalArgumentException("unknown split '" + s + "' (train, test or all)");
    }
}
