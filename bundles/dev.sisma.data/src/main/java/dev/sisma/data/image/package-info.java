/**
 * Safe reading of every image the project takes as input (header size limit checked before
 * decoding, truncation and corruption detected, one-line errors naming the file), atomic writes,
 * and conversions between images and the model's float CHW tensors in [-1, 1].
 */
@Export
@Version("1.1.0")
package dev.sisma.data.image;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
