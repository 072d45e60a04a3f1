"""Video: FVD with an I3D feature extractor, video readers and generators."""
