"""Vision tasks: image classification (ConvNets vs ViTs) and promptable segmentation."""
