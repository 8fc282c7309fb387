# Copyright (c) mmpathseg contributors. All rights reserved.
"""Writers of inference results in formats other tools read: GeoJSON for
QuPath, COCO instance results (RLE), PNG masks and a JSON summary. Every
file is written atomically (complete or absent)."""
from .coco import (coco_dataset, instance_rle, instances_to_coco,
                   write_coco)
from .geojson import (check_geojson, instances_to_geojson, polygon_ring,
                      write_geojson)
from .io import write_bytes_atomic, write_json_atomic
from .masks import (write_binary_mask_png, write_label_png,
                    write_mask_pngs)
from .summary import instance_summary, write_summary

__all__ = [
    'instances_to_geojson', 'write_geojson', 'check_geojson', 'polygon_ring',
    'instance_rle', 'instances_to_coco', 'coco_dataset', 'write_coco',
    'write_label_png', 'write_binary_mask_png', 'write_mask_pngs',
    'instance_summary', 'write_summary',
    'write_json_atomic', 'write_bytes_atomic'
]
