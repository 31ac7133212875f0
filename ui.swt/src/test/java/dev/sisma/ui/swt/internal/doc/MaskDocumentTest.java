package dev.sisma.ui.swt.internal.doc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.atLeastOnce;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.mockito.ArgumentCaptor;

import dev.sisma.api.mask.FaceClass;
import dev.sisma.api.mask.Mask;

class MaskDocumentTest {
    private static final int SKIN = FaceClass.SKIN.index();
    private static final int HAIR = FaceClass.HAIR.index();
    private static final int NOSE = FaceClass.NOSE.index();

    private static int count(MaskDocument d, int cls) {
        return d.histogram()[cls];
    }

    @Test
    void brushFootprints() {
        Brush one = new Brush(Brush.Shape.ROUND, 1);
        assertTrue(one.covers(0, 0));
        assertFalse(one.covers(1, 0));
        Brush sq = new Brush(Brush.Shape.SQUARE, 4);
        int n = 0;
        for (int dy = -5; dy <= 5; dy++) {
            for (int dx = -5; dx <= 5; dx++) {
                n += sq.covers(dx, dy) ? 1 : 0;
            }
        }
        assertEquals(16, n);
        Brush round = new Brush(Brush.Shape.ROUND, 21);
        assertTrue(round.covers(10, 0) && round.covers(-10, 0) && round.covers(0, 10) && round.covers(0, -10));
        assertFalse(round.covers(10, 10), "corners are outside a round brush");
        assertThrows(IllegalArgumentException.class, () -> new Brush(Brush.Shape.ROUND, 0));
        assertThrows(IllegalArgumentException.class, () -> new Brush(Brush.Shape.ROUND, 101));
        assertEquals(100, round.withSize(500).size());
        assertEquals(1, round.withSize(-3).size());
    }

    @Test
    void roundBrushAreaIsCloseToACircle() {
        MaskDocument d = new MaskDocument(200, 200);
        d.stroke(new Brush(Brush.Shape.ROUND, 100), SKIN, MaskDocument.ANY, 100, 100);
        double area = Math.PI * 50 * 50;
        assertEquals(area, count(d, SKIN), area * 0.03);
        assertEquals(SKIN, d.classAt(100, 100));
        assertEquals(0, d.classAt(52, 52), "a round brush leaves the square's corners");
    }

    @Test
    void strokeIsOneUndoableEditAndUndoRedoIsExact() {
        MaskDocument d = new MaskDocument(64, 48);
        MaskDocument.Stroke s = d.beginStroke(new Brush(Brush.Shape.SQUARE, 3), HAIR, MaskDocument.ANY, "Brush hair");
        s.to(5, 5);
        s.to(40, 5);
        s.to(40, 30);
        assertTrue(s.end());
        assertEquals(1, d.undoCount());
        assertEquals("Brush hair", d.undoName());
        assertEquals(HAIR, d.classAt(20, 5));
        assertEquals(HAIR, d.classAt(40, 20));
        assertEquals(HAIR, d.classAt(41, 6));
        assertEquals(0, d.classAt(20, 20));
        Mask painted = d.snapshot();
        assertTrue(d.undo());
        assertEquals(new Mask(64, 48, new byte[64 * 48]), d.snapshot());
        assertTrue(d.redo());
        assertEquals(painted, d.snapshot());
        assertFalse(d.redo());
    }

    @Test
    void strokeOutsideTheMaskIsClipped() {
        MaskDocument d = new MaskDocument(10, 10);
        d.stroke(new Brush(Brush.Shape.ROUND, 9), SKIN, MaskDocument.ANY, -20, -20, 30, 30);
        assertEquals(SKIN, d.classAt(0, 0));
        assertEquals(SKIN, d.classAt(9, 9));
        assertFalse(d.stroke(new Brush(Brush.Shape.ROUND, 3), SKIN, MaskDocument.ANY, -50, -50), "nothing inside: no edit");
        assertEquals(1, d.undoCount());
    }

    @Test
    void eraserPaintsBackgroundAndOnlyOverProtectsOtherClasses() {
        MaskDocument d = new MaskDocument(20, 20);
        d.fillRect(0, 0, 19, 19, SKIN, MaskDocument.ANY);
        d.fillRect(0, 0, 9, 19, HAIR, MaskDocument.ANY);
        // Paint nose across both halves, but only over skin.
        d.stroke(new Brush(Brush.Shape.SQUARE, 1), NOSE, SKIN, 0, 10, 19, 10);
        assertEquals(HAIR, d.classAt(5, 10));
        assertEquals(NOSE, d.classAt(15, 10));
        d.stroke(new Brush(Brush.Shape.SQUARE, 2), 0, MaskDocument.ANY, 0, 0, 19, 0);
        assertEquals(0, d.classAt(5, 0));
        assertEquals(0, d.classAt(15, 0));
        assertEquals(SKIN, d.classAt(15, 1), "a 2-pixel brush covers the centre row and the one above");
        assertEquals("Erase", d.undoName());
    }

    @Test
    void floodFillFillsTheConnectedRegionOnly() {
        MaskDocument d = new MaskDocument(30, 30);
        // A hair ring splits the mask into inside and outside.
        d.fillEllipse(5, 5, 24, 24, HAIR, MaskDocument.ANY);
        d.fillEllipse(9, 9, 20, 20, 0, MaskDocument.ANY);
        int outside = count(d, 0) - countInside(d);
        assertTrue(d.floodFill(15, 15, SKIN));
        assertEquals(SKIN, d.classAt(15, 15));
        assertEquals(0, d.classAt(0, 0), "the fill did not leak through the ring");
        assertEquals(outside, count(d, 0));
        assertFalse(d.floodFill(15, 15, SKIN), "filling with the same class changes nothing");
        assertFalse(d.floodFill(-1, 3, SKIN));
        assertTrue(d.floodFill(0, 0, NOSE));
        assertEquals(0, count(d, 0));
        d.undo();
        d.undo();
        assertEquals(0, d.classAt(15, 15));
    }

    private static int countInside(MaskDocument d) {
        // Background pixels 4-connected to the centre, counted with a plain BFS as the reference.
        boolean[] seen = new boolean[d.width() * d.height()];
        java.util.ArrayDeque<int[]> q = new java.util.ArrayDeque<>();
        q.add(new int[] {15, 15});
        int n = 0;
        while (!q.isEmpty()) {
            int[] p = q.poll();
            if (!d.contains(p[0], p[1]) || d.classAt(p[0], p[1]) != 0 || seen[p[1] * d.width() + p[0]]) {
                continue;
            }
            seen[p[1] * d.width() + p[0]] = true;
            n++;
            q.add(new int[] {p[0] + 1, p[1]});
            q.add(new int[] {p[0] - 1, p[1]});
            q.add(new int[] {p[0], p[1] + 1});
            q.add(new int[] {p[0], p[1] - 1});
        }
        return n;
    }

    @Test
    void floodFillOfALargeRegionDoesNotOverflow() {
        MaskDocument d = new MaskDocument(1024, 1024);
        // A comb makes the scanline fill push many seeds.
        for (int x = 0; x < 1024; x += 2) {
            d.fillRect(x, 0, x, 1000, HAIR, MaskDocument.ANY);
        }
        assertTrue(d.floodFill(1, 1, SKIN));
        assertEquals(1024 * 1024 - 512 * 1001, count(d, SKIN));
    }

    @Test
    void rectangleAndEllipseFill() {
        MaskDocument d = new MaskDocument(40, 40);
        d.fillRect(30, 30, 10, 20, SKIN, MaskDocument.ANY);
        assertEquals(21 * 11, count(d, SKIN));
        d.fillRect(-5, -5, 2, 2, HAIR, MaskDocument.ANY);
        assertEquals(9, count(d, HAIR));
        d.load(new Mask(40, 40, new byte[1600]), null);
        d.fillEllipse(0, 0, 39, 19, NOSE, MaskDocument.ANY);
        assertEquals(Math.PI * 20 * 10, count(d, NOSE), 20);
        assertEquals(NOSE, d.classAt(20, 10));
        assertEquals(0, d.classAt(0, 0));
        assertEquals(NOSE, d.classAt(0, 10));
        assertEquals(NOSE, d.classAt(39, 10));
    }

    @Test
    void setMaskIsUndoableAndMayChangeSize() {
        MaskDocument d = new MaskDocument(8, 8);
        d.fillRect(0, 0, 3, 3, SKIN, MaskDocument.ANY);
        Mask before = d.snapshot();
        byte[] big = new byte[16 * 4];
        java.util.Arrays.fill(big, (byte) HAIR);
        DocumentListener l = mock(DocumentListener.class);
        d.addListener(l);
        assertTrue(d.setMask(new Mask(16, 4, big), "Starter face"));
        ArgumentCaptor<Change> c = ArgumentCaptor.forClass(Change.class);
        verify(l).pixelsChanged(c.capture());
        assertTrue(c.getValue().resized());
        assertEquals(16, d.width());
        assertEquals(4, d.height());
        d.undo();
        assertEquals(before, d.snapshot());
        d.redo();
        assertEquals(new Mask(16, 4, big), d.snapshot());
        assertFalse(d.setMask(new Mask(16, 4, big), "same"));
    }

    @Test
    void dirtyTracksTheSavedPointInTheHistory() {
        MaskDocument d = new MaskDocument(10, 10);
        assertFalse(d.isDirty());
        d.fillRect(0, 0, 2, 2, SKIN, MaskDocument.ANY);
        assertTrue(d.isDirty());
        d.undo();
        assertFalse(d.isDirty(), "undo back to the loaded state is clean");
        d.redo();
        d.markSaved(Path.of("/tmp/x.png"));
        assertFalse(d.isDirty());
        assertEquals(Path.of("/tmp/x.png"), d.file());
        d.fillRect(5, 5, 6, 6, HAIR, MaskDocument.ANY);
        assertTrue(d.isDirty());
        d.undo();
        assertFalse(d.isDirty());
        d.undo();
        assertTrue(d.isDirty(), "before the saved point is dirty too");
        d.fillRect(8, 8, 9, 9, NOSE, MaskDocument.ANY);
        assertTrue(d.isDirty());
        assertFalse(d.canRedo(), "a new edit clears the redo list");
        d.load(new Mask(4, 4, new byte[16]), null);
        assertFalse(d.isDirty());
        assertFalse(d.canUndo());
        assertNull(d.file());
    }

    @Test
    void paintingBackTheOldClassIsNoEdit() {
        MaskDocument d = new MaskDocument(10, 10);
        assertFalse(d.fillRect(0, 0, 9, 9, 0, MaskDocument.ANY));
        assertFalse(d.stroke(new Brush(Brush.Shape.ROUND, 5), 0, MaskDocument.ANY, 5, 5));
        assertEquals(0, d.undoCount());
        assertFalse(d.isDirty());
    }

    @Test
    void listenersHearPixelsAndState() {
        MaskDocument d = new MaskDocument(50, 50);
        List<Change> changes = new ArrayList<>();
        int[] states = {0};
        d.addListener(new DocumentListener() {
            @Override
            public void pixelsChanged(Change change) {
                changes.add(change);
            }

            @Override
            public void stateChanged(MaskDocument document) {
                states[0]++;
            }
        });
        MaskDocument.Stroke s = d.beginStroke(new Brush(Brush.Shape.SQUARE, 5), SKIN, MaskDocument.ANY, "b");
        s.to(10, 10);
        s.to(20, 10);
        assertEquals(2, changes.size(), "one change per stroke segment, while painting");
        assertEquals(0, states[0], "the history changes only at the end of the stroke");
        assertEquals(new Change(8, 8, 5, 5, false), changes.get(0));
        assertEquals(new Change(8, 8, 15, 5, false), changes.get(1));
        s.end();
        assertEquals(1, states[0]);
        long rev = d.revision();
        d.undo();
        assertTrue(d.revision() > rev);
        assertEquals(new Change(8, 8, 15, 5, false), changes.get(2));
        DocumentListener removed = mock(DocumentListener.class);
        d.addListener(removed);
        d.removeListener(removed);
        d.redo();
        verify(removed, never()).pixelsChanged(any());
    }

    @Test
    void anotherEditEndsAnOpenStroke() {
        MaskDocument d = new MaskDocument(20, 20);
        MaskDocument.Stroke s = d.beginStroke(new Brush(Brush.Shape.ROUND, 3), SKIN, MaskDocument.ANY, "b");
        s.to(3, 3);
        assertTrue(d.canUndo());
        d.undo();
        assertFalse(s.isOpen());
        assertEquals(0, d.classAt(3, 3), "undo while painting reverts the open stroke");
        assertThrows(IllegalStateException.class, () -> s.to(4, 4));
    }

    @Test
    void historyStoresOnlyChangedPixels() {
        MaskDocument d = new MaskDocument(1024, 1024);
        for (int i = 0; i < 1000; i++) {
            d.stroke(new Brush(Brush.Shape.SQUARE, 2), 1 + i % 18, MaskDocument.ANY, i, i);
        }
        // 1000 edits of 4 pixels each: a full copy per edit would be 1 GB.
        assertTrue(d.historyBytes() < 200_000, "history holds " + d.historyBytes() + " bytes");
        assertEquals(1000, d.undoCount());
    }

    @Test
    void randomEditsUndoAndRedoExactly() {
        Random r = new Random(7);
        MaskDocument d = new MaskDocument(97, 61);
        List<Mask> states = new ArrayList<>();
        states.add(d.snapshot());
        for (int i = 0; i < 300; i++) {
            int cls = r.nextInt(FaceClass.COUNT);
            int x = r.nextInt(120) - 10, y = r.nextInt(80) - 10, x2 = r.nextInt(120) - 10, y2 = r.nextInt(80) - 10;
            boolean changed = switch (r.nextInt(5)) {
                case 0 -> d.stroke(new Brush(r.nextBoolean() ? Brush.Shape.ROUND : Brush.Shape.SQUARE, 1 + r.nextInt(30)),
                        cls, r.nextInt(4) == 0 ? r.nextInt(FaceClass.COUNT) : MaskDocument.ANY, x, y, x2, y2, y, x);
                case 1 -> d.floodFill(Math.floorMod(x, 97), Math.floorMod(y, 61), cls);
                case 2 -> d.fillRect(x, y, x2, y2, cls, MaskDocument.ANY);
                case 3 -> d.fillEllipse(x, y, x2, y2, cls, MaskDocument.ANY);
                default -> {
                    byte[] b = new byte[97 * 61];
                    for (int k = 0; k < b.length; k++) {
                        b[k] = (byte) r.nextInt(FaceClass.COUNT);
                    }
                    yield r.nextInt(10) == 0 && d.setMask(new Mask(97, 61, b), "Random");
                }
            };
            if (changed) {
                states.add(d.snapshot());
            }
            assertEquals(states.size() - 1, d.undoCount());
        }
        for (int i = states.size() - 1; i > 0; i--) {
            assertEquals(states.get(i), d.snapshot());
            assertTrue(d.undo());
        }
        assertEquals(states.get(0), d.snapshot());
        assertFalse(d.undo());
        for (int i = 1; i < states.size(); i++) {
            assertTrue(d.redo());
            assertEquals(states.get(i), d.snapshot());
        }
        assertArrayEquals(states.get(states.size() - 1).copyOfClasses(), d.snapshot().copyOfClasses());
        verifyNoListenerLeak(d);
    }

    private static void verifyNoListenerLeak(MaskDocument d) {
        DocumentListener l = mock(DocumentListener.class);
        d.addListener(l);
        d.undo();
        verify(l, atLeastOnce()).stateChanged(d);
    }
}
