"""PyTorch references of the two autoencoders sisma ships, written from their public descriptions.

TAEF2 (madebyollin/taesd's tiny autoencoder for FLUX.2 latents): two nn.Sequential stacks whose
indices are the tensor names of the shipped weights (``3.conv.0.weight``, ``11.pool.1.bias`` ...).
The width (64 in the real weights) and the latent channels (32) are parameters so that the parity
test can use a small random one.

AutoencoderKL (Stable Diffusion's VAE) with diffusers' module names (``encoder.down_blocks.0.
resnets.1.conv2.weight``, ``decoder.mid_block.attentions.0.to_q.weight``, ``quant_conv.weight``):
down blocks of ResNet blocks (GroupNorm, SiLU, 3x3 conv, twice, 1x1 shortcut when the width
changes), a stride-2 3x3 conv after an asymmetric zero pad (right and bottom by one) between them,
a mid block (ResNet, single-head self-attention over the pixels, ResNet), GroupNorm-SiLU-conv out
to 2 x latent channels (mean, log-variance), the 1x1 quant_conv; the decoder mirrors it with
layers_per_block + 1 ResNets per up block and nearest 2x upsampling + 3x3 conv. Encode returns
the posterior MEAN times the scaling factor (0.18215 for SD), never a sample, so that encoding is
deterministic; decode divides by the factor first.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


# ----------------------------------------------------------------------------------------- TAEF2

def conv(n_in, n_out, **kw):
    return nn.Conv2d(n_in, n_out, 3, padding=1, **kw)


class Clamp(nn.Module):
    """Soft clamp of the latents to about +-3 (the decoder's first step)."""

    def forward(self, x):
        return torch.tanh(x / 3) * 3


class Block(nn.Module):
    """conv-ReLU-conv-ReLU-conv plus identity skip, ReLU of the sum; with ``pool`` a global branch
    (1x1 conv to 4n, GroupNorm(4), ReLU, 1x1 conv back) is added to the input first."""

    def __init__(self, n, pool=False):
        super().__init__()
        self.conv = nn.Sequential(conv(n, n), nn.ReLU(), conv(n, n), nn.ReLU(), conv(n, n))
        self.pool = nn.Sequential(nn.Conv2d(n, 4 * n, 1, bias=False), nn.GroupNorm(4, 4 * n), nn.ReLU(),
                                  nn.Conv2d(4 * n, n, 1, bias=False)) if pool else None

    def forward(self, x):
        if self.pool is not None:
            x = x + self.pool(x)
        return F.relu(self.conv(x) + x)


def taef2_encoder(width=64, latent=32):
    n = width
    return nn.Sequential(
        conv(3, n), Block(n),
        conv(n, n, stride=2, bias=False), Block(n), Block(n), Block(n),
        conv(n, n, stride=2, bias=False), Block(n), Block(n), Block(n),
        conv(n, n, stride=2, bias=False), Block(n, True), Block(n, True), Block(n, True),
        conv(n, latent))


def taef2_decoder(width=64, latent=32):
    n = width
    return nn.Sequential(
        Clamp(), conv(latent, n), nn.ReLU(),
        Block(n, True), Block(n, True), Block(n, True), nn.Upsample(scale_factor=2), conv(n, n, bias=False),
        Block(n), Block(n), Block(n), nn.Upsample(scale_factor=2), conv(n, n, bias=False),
        Block(n), Block(n), Block(n), nn.Upsample(scale_factor=2), conv(n, n, bias=False),
        Block(n), conv(n, 3))


# ----------------------------------------------------------------------------------- AutoencoderKL

class ResnetBlock2D(nn.Module):
    def __init__(self, c_in, c_out, groups, eps=1e-6):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, c_in, eps=eps)
        self.conv1 = conv(c_in, c_out)
        self.norm2 = nn.GroupNorm(groups, c_out, eps=eps)
        self.conv2 = conv(c_out, c_out)
        self.conv_shortcut = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else None

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        s = x if self.conv_shortcut is None else self.conv_shortcut(x)
        return s + h


class Attention(nn.Module):
    """diffusers' VAE mid-block attention: one head as wide as the channels, GroupNorm first,
    residual added after the output projection."""

    def __init__(self, c, groups, eps=1e-6):
        super().__init__()
        self.group_norm = nn.GroupNorm(groups, c, eps=eps)
        self.to_q = nn.Linear(c, c)
        self.to_k = nn.Linear(c, c)
        self.to_v = nn.Linear(c, c)
        self.to_out = nn.ModuleList([nn.Linear(c, c)])

    def forward(self, x):
        b, c, h, w = x.shape
        t = self.group_norm(x).reshape(b, c, h * w).transpose(1, 2)
        q, k, v = self.to_q(t), self.to_k(t), self.to_v(t)
        p = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(c), dim=-1)
        o = self.to_out[0](p @ v)
        return x + o.transpose(1, 2).reshape(b, c, h, w)


class MidBlock(nn.Module):
    def __init__(self, c, groups):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(c, c, groups), ResnetBlock2D(c, c, groups)])
        self.attentions = nn.ModuleList([Attention(c, groups)])

    def forward(self, x):
        x = self.resnets[0](x)
        x = self.attentions[0](x)
        return self.resnets[1](x)


class Downsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2, padding=0)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Upsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = conv(c, c)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class DownBlock(nn.Module):
    def __init__(self, c_in, c_out, layers, groups, down):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(c_in if i == 0 else c_out, c_out, groups) for i in range(layers)])
        self.downsamplers = nn.ModuleList([Downsample(c_out)]) if down else None

    def forward(self, x):
        for r in self.resnets:
            x = r(x)
        if self.downsamplers is not None:
            x = self.downsamplers[0](x)
        return x


class UpBlock(nn.Module):
    def __init__(self, c_in, c_out, layers, groups, up):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(c_in if i == 0 else c_out, c_out, groups) for i in range(layers)])
        self.upsamplers = nn.ModuleList([Upsample(c_out)]) if up else None

    def forward(self, x):
        for r in self.resnets:
            x = r(x)
        if self.upsamplers is not None:
            x = self.upsamplers[0](x)
        return x


class Encoder(nn.Module):
    def __init__(self, channels, layers, latent, groups):
        super().__init__()
        self.conv_in = conv(3, channels[0])
        blocks, prev = [], channels[0]
        for i, c in enumerate(channels):
            blocks.append(DownBlock(prev, c, layers, groups, i < len(channels) - 1))
            prev = c
        self.down_blocks = nn.ModuleList(blocks)
        self.mid_block = MidBlock(prev, groups)
        self.conv_norm_out = nn.GroupNorm(groups, prev, eps=1e-6)
        self.conv_out = conv(prev, 2 * latent)

    def forward(self, x):
        x = self.conv_in(x)
        for b in self.down_blocks:
            x = b(x)
        x = self.mid_block(x)
        return self.conv_out(F.silu(self.conv_norm_out(x)))


class Decoder(nn.Module):
    def __init__(self, channels, layers, latent, groups):
        super().__init__()
        rev = list(reversed(channels))
        self.conv_in = conv(latent, rev[0])
        self.mid_block = MidBlock(rev[0], groups)
        blocks, prev = [], rev[0]
        for i, c in enumerate(rev):
            blocks.append(UpBlock(prev, c, layers + 1, groups, i < len(rev) - 1))
            prev = c
        self.up_blocks = nn.ModuleList(blocks)
        self.conv_norm_out = nn.GroupNorm(groups, prev, eps=1e-6)
        self.conv_out = conv(prev, 3)

    def forward(self, z):
        x = self.mid_block(self.conv_in(z))
        for b in self.up_blocks:
            x = b(x)
        return self.conv_out(F.silu(self.conv_norm_out(x)))


class AutoencoderKL(nn.Module):
    """sd-vae-ft-mse is channels (128, 256, 512, 512), layers 2, latent 4, groups 32, scaling 0.18215."""

    def __init__(self, channels=(128, 256, 512, 512), layers=2, latent=4, groups=32, scaling=0.18215):
        super().__init__()
        self.encoder = Encoder(channels, layers, latent, groups)
        self.decoder = Decoder(channels, layers, latent, groups)
        self.quant_conv = nn.Conv2d(2 * latent, 2 * latent, 1)
        self.post_quant_conv = nn.Conv2d(latent, latent, 1)
        self.latent = latent
        self.scaling = scaling

    def encode(self, image):
        """image [B, 3, H, W] in [-1, 1] -> scaled posterior mean [B, latent, H/f, W/f]."""
        moments = self.quant_conv(self.encoder(image))
        return moments[:, :self.latent] * self.scaling

    def decode(self, z):
        """scaled latents -> image in about [-1, 1]."""
        return self.decoder(self.post_quant_conv(z / self.scaling))
