"""Tiny torchvision-format ResNet weights and golden outputs for focal-train's pretrained tests.

torchvision's ResNet-18/50 weigh 45-100 MB; these fixtures keep torchvision's layout and
state-dict key names (conv1, bn1, layerN.I.{conv,bn}{1,2,3}, layerN.0.downsample.{0,1}, fc)
at stage widths 2, 4, 8, 16 with one block per stage, so that the test files stay a few KB.
The model below is torchvision's `BasicBlock` / `Bottleneck` / `ResNet` code, reduced to
what a state dict needs (v1.5: the stride sits on the 3x3 convolution).

Writes, under crates/focal-train/tests/fixtures/:
  resnet_basic.pth, resnet_basic.safetensors        BasicBlock, 3 input channels, 10 classes
  resnet_bottleneck.pth, resnet_bottleneck.safetensors   Bottleneck, same
  pretrained_golden.json   for each: a fixed input [1, 3, 16, 16] (and a greyscale input
                           [1, 1, 16, 16] replicated to RGB), and torch's eval-mode logits.

Run: /work/venvs/train/bin/python scripts/gen_pretrained_fixture.py
Versions: torch==2.15.0, safetensors==0.8.0, numpy (pip install torch==2.15.0 safetensors numpy).
"""

import json
import os

import torch
import torch.nn as nn
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "focal-train", "tests", "fixtures")


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes=10, width=2):
        super().__init__()
        self.inplanes = width
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, 2 * width, layers[1], 2)
        self.layer3 = self._make_layer(block, 4 * width, layers[2], 2)
        self.layer4 = self._make_layer(block, 8 * width, layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8 * width * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def main():
    torch.manual_seed(0)
    golden = {}
    for name, block in [("resnet_basic", BasicBlock), ("resnet_bottleneck", Bottleneck)]:
        model = ResNet(block, [1, 1, 1, 1])
        # Non-trivial batch-norm statistics, so that loading them is tested too.
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.2, 0.2)
                    m.running_var.uniform_(0.5, 1.5)
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.1, 0.1)
        model.eval()
        sd = model.state_dict()
        torch.save(sd, os.path.join(OUT, f"{name}.pth"))
        save_file({k: v.contiguous() for k, v in sd.items()}, os.path.join(OUT, f"{name}.safetensors"))
        x = torch.rand(1, 3, 16, 16)
        grey = torch.rand(1, 1, 16, 16)
        with torch.no_grad():
            logits = model(x)
            logits_grey = model(grey.expand(-1, 3, -1, -1))
        golden[name] = {
            "input_shape": list(x.shape),
            "input": x.flatten().tolist(),
            "logits": logits.flatten().tolist(),
            "grey_input_shape": list(grey.shape),
            "grey_input": grey.flatten().tolist(),
            "grey_logits": logits_grey.flatten().tolist(),
        }
    with open(os.path.join(OUT, "pretrained_golden.json"), "w") as f:
        json.dump(golden, f)


if __name__ == "__main__":
    main()
