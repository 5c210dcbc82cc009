"""Cached calls over the engine: models, data, codes and their maps, measures, the live map's assets."""
