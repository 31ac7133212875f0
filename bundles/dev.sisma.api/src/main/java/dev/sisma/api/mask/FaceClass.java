package dev.sisma.api.mask;

/**
 * The 19 CelebAMask-HQ classes in the order of the dataset's {@code g_mask.py} (the index is the
 * pixel value of a label map), with the display colours of its {@code g_color.py}. Colours are a
 * view only: masks are stored and exchanged as class indices.
 */
public enum FaceClass {
    BACKGROUND("background", 0x000000),
    SKIN("skin", 0xCC0000),
    NOSE("nose", 0x4C9900),
    EYE_G("eye_g", 0xCCCC00),
    L_EYE("l_eye", 0x3333FF),
    R_EYE("r_eye", 0xCC00CC),
    L_BROW("l_brow", 0x00FFFF),
    R_BROW("r_brow", 0xFFCCCC),
    L_EAR("l_ear", 0x663300),
    R_EAR("r_ear", 0xFF0000),
    MOUTH("mouth", 0x66CC00),
    U_LIP("u_lip", 0xFFFF00),
    L_LIP("l_lip", 0x000099),
    HAIR("hair", 0x0000CC),
    HAT("hat", 0xFF3399),
    EAR_R("ear_r", 0x00CCCC),
    NECK_L("neck_l", 0x003300),
    NECK("neck", 0xFF9933),
    CLOTH("cloth", 0x00CC00);

    /** Number of classes (19). */
    public static final int COUNT = 19;

    private final String partName;
    private final int rgb;

    FaceClass(String partName, int rgb) {
        this.partName = partName;
        this.rgb = rgb;
    }

    /** The name used in CelebAMask-HQ part files ({@code 00000_l_brow.png}). */
    public String partName() {
        return partName;
    }

    /** Display colour as 0xRRGGBB. */
    public int rgb() {
        return rgb;
    }

    public int index() {
        return ordinal();
    }

    public static FaceClass of(int index) {
        if (index < 0 || index >= COUNT) {
            throw new IllegalArgumentException("class index " + index + " is outside 0.." + (COUNT - 1));
        }
        return values()[index];
    }

    /** The class whose part-file name is {@code name}, or null. */
    public static FaceClass byPartName(String name) {
        for (FaceClass c : values()) {
            if (c.partName.equals(name)) {
                return c;
            }
        }
        return null;
    }
}
