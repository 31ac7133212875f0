package dev.sisma.engine.spi;

/**
 * Geometry of a 2D convolution in NCHW: input [n, cin, h, w], weight [cout, cin, kh, kw]
 * (PyTorch layout, groups = 1), output [n, cout, outH, outW], symmetric zero padding, no dilation.
 */
public record Conv2dShape(int n, int cin, int h, int w, int cout, int kh, int kw, int stride, int padding) {
    public Conv2dShape {
        if (n <= 0 || cin <= 0 || h <= 0 || w <= 0 || cout <= 0 || kh <= 0 || kw <= 0 || stride <= 0 || padding < 0)
            throw new IllegalArgumentException("bad conv2d geometry " + this);
        if (h + 2 * padding < kh || w + 2 * padding < kw) // fields are not assigned yet in a compact constructor
            throw new IllegalArgumentException("conv2d kernel larger than the padded input: " + this);
    }

    public int outH() { return (h + 2 * padding - kh) / stride + 1; }

    public int outW() { return (w + 2 * padding - kw) / stride + 1; }
}
