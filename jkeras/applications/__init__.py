"""Keras Applications: ImageNet models with Keras's layer names and weight order, so the
weight files Keras publishes load into them (`weights='imagenet'`). Each family is a
module (`jkeras.applications.vgg16`, ...) with its builders, `preprocess_input` and
`decode_predictions`; the builders are also exported here."""
from jkeras.applications import (convnext, densenet, efficientnet, imagenet_utils,
                                 inception_resnet_v2, inception_v3, mobilenet, mobilenet_v2,
                                 mobilenet_v3, nasnet, resnet, resnet50, resnet_v2, vgg16,
                                 vgg19, xception)
from jkeras.applications.convnext import ConvNeXtBase, ConvNeXtSmall, ConvNeXtTiny
from jkeras.applications.densenet import DenseNet121, DenseNet169, DenseNet201
from jkeras.applications.efficientnet import (EfficientNetB0, EfficientNetB1, EfficientNetB2,
                                              EfficientNetB3, EfficientNetB4, EfficientNetB5,
                                              EfficientNetB6, EfficientNetB7)
from jkeras.applications.inception_resnet_v2 import InceptionResNetV2
from jkeras.applications.inception_v3 import InceptionV3
from jkeras.applications.mobilenet import MobileNet
from jkeras.applications.mobilenet_v2 import MobileNetV2
from jkeras.applications.mobilenet_v3 import MobileNetV3Large, MobileNetV3Small
from jkeras.applications.nasnet import NASNetLarge, NASNetMobile
from jkeras.applications.resnet import ResNet50, ResNet101, ResNet152
from jkeras.applications.resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2
from jkeras.applications.vgg16 import VGG16
from jkeras.applications.vgg19 import VGG19
from jkeras.applications.xception import Xception

__all__ = [
    "ConvNeXtBase", "ConvNeXtSmall", "ConvNeXtTiny", "DenseNet121", "DenseNet169",
    "DenseNet201", "EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3",
    "EfficientNetB4", "EfficientNetB5", "EfficientNetB6", "EfficientNetB7",
    "InceptionResNetV2", "InceptionV3", "MobileNet", "MobileNetV2", "MobileNetV3Large",
    "MobileNetV3Small", "NASNetLarge", "NASNetMobile", "ResNet50", "ResNet101", "ResNet152",
    "ResNet50V2", "ResNet101V2", "ResNet152V2", "VGG16", "VGG19", "Xception",
    "convnext", "densenet", "efficientnet", "imagenet_utils", "inception_resnet_v2",
    "inception_v3", "mobilenet", "mobilenet_v2", "mobilenet_v3", "nasnet", "resnet",
    "resnet50", "resnet_v2", "vgg16", "vgg19", "xception"]
