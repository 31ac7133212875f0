package dev.sisma.ui.swt.internal.eclipse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;

import javax.xml.parsers.DocumentBuilderFactory;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * What can be checked of the Eclipse contribution without a workbench: plugin.xml parses, names
 * the views extension point and a class that is a ViewPart. (Running it inside an Eclipse
 * workbench is not tested here.)
 */
class PluginXmlTest {
    @Test
    void contributesTheViewPart() throws Exception {
        Document doc;
        try (InputStream in = getClass().getResourceAsStream("/plugin.xml")) {
            doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(in);
        }
        Element ext = (Element) doc.getElementsByTagName("extension").item(0);
        assertEquals("org.eclipse.ui.views", ext.getAttribute("point"));
        Element view = (Element) ext.getElementsByTagName("view").item(0);
        assertEquals(MaskEditorView.ID, view.getAttribute("id"));
        Class<?> c = Class.forName(view.getAttribute("class"));
        assertTrue(org.eclipse.ui.part.ViewPart.class.isAssignableFrom(c));
        assertTrue(org.eclipse.ui.ISaveablePart.class.isAssignableFrom(c));
        assertEquals(MaskEditorView.class, c.getConstructor().newInstance().getClass());
    }
}
