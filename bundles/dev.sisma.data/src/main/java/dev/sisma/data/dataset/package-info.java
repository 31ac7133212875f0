/**
 * Training and evaluation data: (image, mask) pairs. A bundle adds a dataset by registering a
 * {@link dev.sisma.data.dataset.DatasetProvider} service; the trainer finds it by name through
 * {@link dev.sisma.data.dataset.Datasets}. Without OSGi, construct
 * {@link dev.sisma.data.dataset.CelebAMaskHq} or {@link dev.sisma.data.synth.SyntheticFaces}
 * directly, or use {@link dev.sisma.data.dataset.Datasets#builtIn()}.
 */
@Export
@Version("1.1.0")
package dev.sisma.data.dataset;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
