package dev.sisma.ui.swt.internal.editor;

/** The canvas tools, with their one-letter shortcuts. */
public enum Tool {
    BRUSH("Brush", 'b', "paint the class with the brush"),
    ERASER("Eraser", 'e', "paint background with the brush"),
    FILL("Fill", 'g', "flood-fill the region under the click"),
    RECTANGLE("Rectangle", 'r', "drag to fill a rectangle"),
    ELLIPSE("Ellipse", 'o', "drag to fill an ellipse"),
    EYEDROPPER("Pick", 'i', "pick the class under the click (or Alt+click with any tool)");

    public final String label;
    public final char key;
    public final String help;

    Tool(String label, char key, String help) {
        this.label = label;
        this.key = key;
        this.help = help;
    }

    public boolean usesBrush() {
        return this == BRUSH || this == ERASER;
    }

    public static Tool forKey(char c) {
        for (Tool t : values()) {
            if (t.key == Character.toLowerCase(c)) {
                return t;
            }
        }
        return null;
    }
}
