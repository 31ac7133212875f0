package dev.sisma.ui.swt.internal.editor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

import dev.sisma.api.mask.FaceClass;
import dev.sisma.ui.swt.internal.doc.MaskDocument;

class ViewportRendererTest {
    @Test
    void zoomAtKeepsThePointUnderTheCursor() {
        Viewport v = new Viewport();
        v.fit(512, 512, 808, 608);
        assertEquals(600 / 512.0, v.zoom(), 1e-9);
        int ix = v.imageX(300), iy = v.imageY(200);
        v.zoomAt(v.zoom() * 4, 300, 200);
        assertEquals(ix, v.imageX(300));
        assertEquals(iy, v.imageY(200));
        v.zoomAt(1e9, 0, 0);
        assertEquals(Viewport.MAX_ZOOM, v.zoom());
        v.set(2, 10, 20);
        assertEquals(0, v.imageX(10));
        assertEquals(-1, v.imageX(9.9));
        assertEquals(5, v.imageY(31));
        v.pan(4, 0);
        assertEquals(14, v.originX());
    }

    @Test
    void rendersPaletteColoursPhotoBlendAndHighlight() {
        MaskDocument d = new MaskDocument(4, 4);
        d.fillRect(0, 0, 1, 3, FaceClass.HAIR.index(), MaskDocument.ANY);
        Viewport v = new Viewport();
        v.set(2, 0, 0);
        int[] out = new int[10 * 8];
        MaskRenderer.render(d, null, 0.5, -1, v, out, 0, 0, 10, 8);
        assertEquals(FaceClass.HAIR.rgb(), out[0]);
        assertEquals(FaceClass.HAIR.rgb(), out[3], "zoom 2: mask pixel 1 covers canvas x 2..3");
        assertEquals(0, out[4]);
        int outside = out[9];
        assertEquals(true, outside == MaskRenderer.OUTSIDE_LIGHT || outside == MaskRenderer.OUTSIDE_DARK);
        int[] white = new int[16];
        java.util.Arrays.fill(white, 0xFFFFFF);
        MaskRenderer.render(d, new MaskRenderer.Photo(4, 4, white), 0.5, -1, v, out, 0, 0, 10, 8);
        assertEquals(MaskRenderer.blend(FaceClass.HAIR.rgb(), 0xFFFFFF, 128), out[0]);
        assertEquals(0x7F7F7F, out[4], "half black over white");
        MaskRenderer.render(d, null, 1, FaceClass.HAIR.index(), v, out, 2, 0, 8, 8);
        assertEquals(FaceClass.HAIR.rgb(), out[0], "the highlighted class keeps its colour (rect starts at x=2)");
    }
}
