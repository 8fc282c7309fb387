# Copyright (c) mmpathseg contributors. All rights reserved.
"""Merge instance predictions of overlapping tiles into one instance map.

Tiles are added one at a time into an image-sized output map (which may be
an ``np.memmap``), so nothing but that map and a few numbers per nucleus is
kept: usable from a segmentor's slide inference and from whole-slide
inference alike.

The rule, for each instance of a new tile:

1. Its *border distance* ``d`` is the distance in pixels from its bounding
   box to the nearest *inner* edge of its tile, i.e. an edge that lies inside
   the image and is therefore shared with a neighbouring tile (image borders
   do not count). ``d == 0`` means the nucleus touches the seam and may be
   cut. Its rank is ``(d, area)``: farther from the seams first, then larger.
2. It is a *duplicate* of an instance already in the output when their
   overlap covers at least ``dup_thresh`` of the smaller of the two.
3. It wins when its rank is strictly higher than that of every instance it
   duplicates; those are then removed from the output (all their pixels) and
   it is painted. Otherwise it is dropped. Ties keep what is already there,
   so the result does not depend on floating point or id order. An instance
   that lost only to instances later removed by another winner of the same
   tile comes back.
4. Painting never overwrites pixels of instances that stay: where a new
   instance overlaps a non-duplicate neighbour by a few pixels, the
   neighbour keeps them.

With an overlap wider than the largest nucleus, every nucleus lies fully
inside some tile, away from its inner edges, so it comes out exactly once and
uncut. (CellVTA's CoNIC script does the same with polygons: it drops cells
at the margin that a neighbouring crop sees whole and keeps the largest of
overlapping duplicates.)
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from .instance_properties import group_instances, instance_table
from .tiling import resize_label_map

# A rank is d * _AREA_SPAN + area, with d capped, kept exact in int64.
_AREA_SPAN = 1 << 40
_MAX_DISTANCE = (1 << 22) - 1


class InstanceTileMerger:
    """Accumulate tile instance maps into one image-level instance map.

    Args:
        image_shape (tuple[int, int]): ``(H, W)`` of the whole image, in the
            coordinates the tiles are given in.
        dup_thresh (float): overlap / smaller area from which two instances
            of different tiles are the same nucleus. Defaults to 0.5.
        out (np.ndarray, optional): zero-filled ``(H, W)`` int32 array to
            accumulate into, e.g. ``np.lib.format.open_memmap`` for images
            that do not fit in memory. Defaults to a new array.

    Example:
        >>> merger = InstanceTileMerger((512, 512))
        >>> for y, x in tile_origins((512, 512), 256, 192):
        ...     np_map, hv_map, nc_map = model(image[y:y + 256, x:x + 256])
        ...     merger.add_result(postprocessor(np_map, hv_map, nc_map),
        ...                       (y, x))
        >>> table = merger.result()
    """

    def __init__(self,
                 image_shape: Tuple[int, int],
                 dup_thresh: float = 0.5,
                 out: Optional[np.ndarray] = None) -> None:
        if not 0 < dup_thresh <= 1:
            raise ValueError(
                f'dup_thresh must be in (0, 1], got {dup_thresh}.')
        self.image_shape = tuple(int(v) for v in image_shape)
        self.dup_thresh = dup_thresh
        if out is None:
            out = np.zeros(self.image_shape, dtype=np.int32)
        elif out.shape != self.image_shape or out.dtype != np.int32:
            raise ValueError(f'out must be an int32 array of shape '
                             f'{self.image_shape}, got {out.dtype} '
                             f'{out.shape}.')
        self.inst_map = out
        self._size = 0  # ids 1.._size have been used
        self._rank = np.zeros(1024, dtype=np.int64)
        self._area = np.zeros(1024, dtype=np.int64)
        self._box = np.zeros((1024, 4), dtype=np.int64)  # x1, y1, x2, y2
        self._label = np.zeros(1024, dtype=np.int64)
        self._score = np.zeros(1024, dtype=np.float64)

    def _grow(self, size: int) -> None:
        if size < self._rank.size:
            return
        capacity = max(size + 1, 2 * self._rank.size)
        for name in ('_rank', '_area', '_box', '_label', '_score'):
            old = getattr(self, name)
            new = np.zeros((capacity, ) + old.shape[1:], dtype=old.dtype)
            new[:old.shape[0]] = old
            setattr(self, name, new)

    def _remove(self, gid: int) -> None:
        x1, y1, x2, y2 = self._box[gid]
        window = self.inst_map[y1:y2, x1:x2]
        window[window == gid] = 0
        self._area[gid] = 0

    def add(self,
            inst_map: np.ndarray,
            origin: Tuple[int, int],
            ids: Optional[Sequence[int]] = None,
            labels: Optional[Sequence[int]] = None,
            scores: Optional[Sequence[float]] = None) -> None:
        """Merge the instances of one tile.

        Args:
            inst_map (np.ndarray): ``(h, w)`` int instance map of the tile.
            origin (tuple[int, int]): ``(y, x)`` of the tile's top-left
                pixel in the image.
            ids (Sequence[int], optional): instance ids that ``labels`` and
                ``scores`` refer to; all ids in ``inst_map`` when omitted.
                Pixels of ids not listed are ignored.
            labels (Sequence[int], optional): type of each instance;
                defaults to 1.
            scores (Sequence[float], optional): type probability of each
                instance; defaults to 1.
        """
        tile = np.asarray(inst_map)
        if tile.ndim != 2 or not np.issubdtype(tile.dtype, np.integer):
            raise ValueError('inst_map must be an (h, w) integer map, got '
                             f'{tile.dtype} {tile.shape}.')
        height, width = self.image_shape
        tile_h, tile_w = tile.shape
        y0, x0 = (int(v) for v in origin)
        if y0 < 0 or x0 < 0 or y0 + tile_h > height or x0 + tile_w > width:
            raise ValueError(f'Tile {tile.shape} at origin {(y0, x0)} does '
                             f'not fit in the image {self.image_shape}.')
        tile = tile.astype(np.int32, copy=False)
        if tile.size and tile.min() < 0:
            raise ValueError('inst_map ids must be >= 0.')
        if ids is not None:
            ids = np.asarray(ids, dtype=np.int64).reshape(-1)
            listed = np.zeros(int(tile.max(initial=0)) + 1, dtype=bool)
            listed[ids[ids < listed.size]] = True
            listed[0] = False
            tile = np.where(listed[tile], tile, 0)
        groups = group_instances(tile)
        num = groups.ids.size
        if num == 0:
            return
        labels_of = np.ones(num, dtype=np.int64)
        scores_of = np.ones(num, dtype=np.float64)
        if ids is not None:
            position = {int(i): k for k, i in enumerate(ids)}
            where = np.array([position[int(i)] for i in groups.ids])
            if labels is not None:
                labels_of = np.asarray(labels, dtype=np.int64)[where]
            if scores is not None:
                scores_of = np.asarray(scores, dtype=np.float64)[where]
        elif labels is not None or scores is not None:
            raise ValueError('Pass ids together with labels/scores so they '
                             'can be matched to the instances.')

        # Rank: distance to the tile's inner edges, then area.
        x1, y1, x2, y2 = groups.boxes.T
        far = np.full(num, _MAX_DISTANCE, dtype=np.int64)
        distance = np.minimum.reduce([
            y1 if y0 > 0 else far,
            tile_h - y2 if y0 + tile_h < height else far,
            x1 if x0 > 0 else far,
            tile_w - x2 if x0 + tile_w < width else far,
        ])
        rank = np.minimum(distance, _MAX_DISTANCE) * _AREA_SPAN + groups.areas

        # Overlaps with instances already in the output.
        region = self.inst_map[y0:y0 + tile_h, x0:x0 + tile_w]
        fg_tile = groups.idx
        fg_out = region.ravel()[groups.fg].astype(np.int64)
        both = fg_out > 0
        blockers = [[] for _ in range(num)]
        if both.any():
            pair = fg_tile[both].astype(np.int64) * (self._size + 1) + \
                fg_out[both]
            pair, inter = np.unique(pair, return_counts=True)
            k_tile, gid = np.divmod(pair, self._size + 1)
            smaller = np.minimum(groups.areas[k_tile], self._area[gid])
            dup = inter >= self.dup_thresh * smaller
            for k, g in zip(k_tile[dup].tolist(), gid[dup].tolist()):
                blockers[k].append(g)

        # Best-ranked first; repeat for the instances that lost only to
        # instances another winner has removed since.
        accepted = np.zeros(num, dtype=bool)
        removed = set()
        pending = np.argsort(-rank, kind='stable').tolist()
        changed = True
        while changed and pending:
            changed = False
            for k in list(pending):
                alive = [g for g in blockers[k] if g not in removed]
                if all(rank[k] > self._rank[g] for g in alive):
                    accepted[k] = True
                    removed.update(alive)
                    pending.remove(k)
                    changed = True
        for gid in removed:
            self._remove(gid)

        # Paint the accepted instances on free pixels, with new global ids.
        new_ids = np.zeros(num, dtype=np.int64)
        count = int(accepted.sum())
        new_ids[accepted] = np.arange(self._size + 1, self._size + 1 + count)
        self._grow(self._size + count)
        paint = new_ids[fg_tile]
        free = (region.ravel()[groups.fg] == 0) & (paint > 0)
        rows, cols = np.divmod(groups.fg[free], tile_w)
        region[rows, cols] = paint[free]
        painted = np.bincount(fg_tile[free], minlength=num)
        sel = new_ids[accepted]
        self._area[sel] = painted[accepted]
        self._rank[sel] = rank[accepted]
        self._label[sel] = labels_of[accepted]
        self._score[sel] = scores_of[accepted]
        self._box[sel] = groups.boxes[accepted] + [x0, y0, x0, y0]
        self._size += count

    def add_result(self, result: Dict, origin: Tuple[int, int]) -> None:
        """:meth:`add` the output of
        :class:`~mmpathseg.postprocessing.HoVerNetPostProcessor` for one
        tile (``inst_map`` and ``instances`` with ``ids``, ``labels``,
        ``scores``)."""
        instances = result['instances']

        def numpy(x):
            return np.asarray(x.cpu() if hasattr(x, 'cpu') else x)

        self.add(result['inst_map'], origin, numpy(instances.ids),
                 numpy(instances.labels), numpy(instances.scores))

    def records(self) -> Dict[str, np.ndarray]:
        """Per-instance records of the instances in the output, without
        reading the map (for outputs too large to scan, e.g. a memmap of a
        whole slide).

        Returns:
            dict: ``ids`` (N,) int64 ids in :attr:`inst_map`, ``labels``
            (N,) int64, ``scores`` (N,) float64, ``areas`` (N,) int64 pixel
            counts, ``bboxes`` (N, 4) int64 (x1, y1, x2, y2) of the instance
            in its tile (a superset of the painted pixels when a neighbour
            kept some of them).
        """
        ids = np.flatnonzero(self._area[1:self._size + 1]) + 1
        return dict(
            ids=ids,
            labels=self._label[ids].copy(),
            scores=self._score[ids].copy(),
            areas=self._area[ids].copy(),
            bboxes=self._box[ids].copy())

    def result(self,
               output_shape: Optional[Tuple[int, int]] = None,
               relabel: bool = True) -> Dict:
        """The merged instances, with contours and centroids (reads the whole
        map; see :meth:`records` for very large outputs).

        Args:
            output_shape (tuple[int, int], optional): resize the merged map
                to this ``(h, w)`` first, label-preserving (e.g. 480 -> 256
                for CellVTA's CoNIC upscaling). Instances that vanish are
                dropped.
            relabel (bool): renumber the ids 1..N in order of first
                appearance in the tiles. Defaults to True.

        Returns:
            dict: an :func:`~mmpathseg.postprocessing.instance_table` of the
            merged map (``inst_map``, ``ids``, ``labels``, ``scores``,
            ``areas``, ``centroids``, ``bboxes``, ``contours``), with the
            type and score each instance had in its tile, plus ``type_map``
            (``(h, w)`` int64).
        """
        inst_map = np.asarray(self.inst_map)
        if output_shape is not None:
            inst_map = resize_label_map(inst_map, output_shape)
        table = instance_table(inst_map, drop_degenerate=False)
        ids = table['ids']
        table['labels'] = self._label[ids]
        table['scores'] = self._score[ids]
        if relabel and ids.size:
            lut = np.zeros(self._size + 1, dtype=np.int32)
            lut[ids] = np.arange(1, ids.size + 1, dtype=np.int32)
            table['inst_map'] = lut[table['inst_map']]
            table['ids'] = np.arange(1, ids.size + 1, dtype=np.int64)
        type_lut = np.zeros(int(table['inst_map'].max(initial=0)) + 1,
                            dtype=np.int64)
        type_lut[table['ids']] = table['labels']
        table['type_map'] = type_lut[table['inst_map']]
        return table
