/* Copyright (c) mmpathseg contributors. All rights reserved.
 *
 * One-pass kernels over integer label maps, loaded with ctypes by
 * mmpathseg/ops/label_kernels.py (plain C, no Python or numpy headers).
 *
 * Every array is C-contiguous; the Python side checks dtypes and shapes and
 * sizes the outputs. Label maps are int32 with 0 = background and ids in
 * [0, max_id]; "by id" outputs have max_id + 1 entries and are indexed by the
 * raw id. A negative return value -(i + 1) names the first flat pixel index i
 * whose id or type is out of range; nothing is promised about the outputs
 * then.
 */
#include <stdint.h>

/* Rows of the `stats` block of label_moments, each max_id + 1 long. */
enum {
  AREA, SUM_X, SUM_Y, MIN_X, MIN_Y, MAX_X, MAX_Y, FIRST, COMPONENTS,
  NUM_STATS
};

static int32_t find_root(int32_t *parent, int32_t a) {
  while (parent[a] != a) {
    parent[a] = parent[parent[a]]; /* path halving */
    a = parent[a];
  }
  return a;
}

static int32_t merge(int32_t *parent, int32_t a, int32_t b) {
  a = find_root(parent, a);
  b = find_root(parent, b);
  if (a < b) {
    parent[b] = a;
    return a;
  }
  parent[a] = b;
  return b;
}

/* Area, coordinate sums, bounding box, first pixel, number of 8-connected
 * components and (optionally) a per-type pixel count of every id of an
 * (height, width) label map, in one raster pass.
 *
 * stats is a (max_id + 1, NUM_STATS) block initialised by the caller (0,
 * except MIN_X = width, MIN_Y = height, MAX_X = MAX_Y = FIRST = -1), one row
 * per id so that a pixel touches one cache line. FIRST is the flat index of
 * the id's first pixel in raster order. COMPONENTS counts the id's
 * 8-connected components (two-row union-find labelling; scratch: rows
 * (2 * width), parent and owner (height * width each)). When `types` is not
 * NULL, votes[id * num_types + type] counts types in [0, num_types).
 */
int64_t label_moments(const int32_t *labels, const int32_t *types,
                      int64_t height, int64_t width, int64_t max_id,
                      int64_t num_types, int64_t *stats, int64_t *votes,
                      int32_t *rows, int32_t *parent, int32_t *owner) {
  int32_t num_runs = 0; /* provisional component labels */
  for (int64_t y = 0; y < height; ++y) {
    const int32_t *row = labels + y * width;
    const int32_t *above = y ? row - width : 0;
    int32_t *cur = rows + (y & 1) * width;         /* labels of this row */
    const int32_t *prev = rows + (~y & 1) * width; /* of the row above */
    const int32_t *type_row = types ? types + y * width : 0;
    for (int64_t x = 0; x < width; ++x) {
      const int32_t id = row[x];
      if (id == 0) continue;
      if (id < 0 || id > max_id) return -(y * width + x + 1);
      int64_t *st = stats + (int64_t)id * NUM_STATS;
      if (st[AREA] == 0) st[FIRST] = y * width + x;
      st[AREA] += 1;
      st[SUM_X] += x;
      st[SUM_Y] += y;
      if (x < st[MIN_X]) st[MIN_X] = x;
      if (x > st[MAX_X]) st[MAX_X] = x;
      if (y < st[MIN_Y]) st[MIN_Y] = y;
      st[MAX_Y] = y; /* raster order: the last row seen is the largest */
      /* Same-id neighbours already scanned: N, or else W, NW, NE (with N of
       * the same id those three are already joined to it). */
      int32_t label = -1;
      if (above && above[x] == id) {
        label = prev[x];
      } else {
        if (x > 0 && row[x - 1] == id) label = cur[x - 1];
        if (above && x > 0 && above[x - 1] == id)
          label = label < 0 ? prev[x - 1] : merge(parent, label, prev[x - 1]);
        if (above && x + 1 < width && above[x + 1] == id)
          label = label < 0 ? prev[x + 1] : merge(parent, label, prev[x + 1]);
      }
      if (label < 0) {
        label = num_runs++;
        parent[label] = label;
        owner[label] = id;
      }
      cur[x] = label;
      if (type_row) {
        const int64_t t = type_row[x];
        if (t < 0 || t >= num_types) return -(y * width + x + 1);
        votes[id * num_types + t] += 1;
      }
    }
  }
  for (int32_t r = 0; r < num_runs; ++r)
    if (find_root(parent, r) == r)
      stats[(int64_t)owner[r] * NUM_STATS + COMPONENTS] += 1;
  return 0;
}

/* Relabel two label maps of `size` pixels through look-up tables (raw id ->
 * compact index, 0 = background) and list the (gt, pred) pairs of their
 * overlapping foreground pixels as keys gt * stride + pred (room for
 * max_keys). Returns the number of keys written, or a negative pixel index
 * + 1 when an id exceeds its table or the keys do not fit. */
int64_t relabel_pairs(const int32_t *gt, const int32_t *pred, int64_t size,
                      const int64_t *gt_lut, int64_t gt_max,
                      const int64_t *pred_lut, int64_t pred_max,
                      int64_t stride, int64_t *gt_out, int64_t *pred_out,
                      int64_t *keys, int64_t max_keys) {
  int64_t num_keys = 0;
  for (int64_t i = 0; i < size; ++i) {
    const int64_t g = gt[i], p = pred[i];
    if (g < 0 || g > gt_max || p < 0 || p > pred_max) return -(i + 1);
    const int64_t cg = gt_lut[g], cp = pred_lut[p];
    gt_out[i] = cg;
    pred_out[i] = cp;
    if (cg && cp) {
      if (num_keys == max_keys) return -(i + 1);
      keys[num_keys++] = cg * stride + cp;
    }
  }
  return num_keys;
}

/* The 8 chain-code directions of OpenCV's border following (y down):
 * 0 right, 1 up-right, 2 up, 3 up-left, 4 left, 5 down-left, 6 down,
 * 7 down-right. */
static const int DX[8] = {1, 1, 0, -1, -1, -1, 0, 1};
static const int DY[8] = {0, -1, -1, -1, 0, 1, 1, 1};

static inline int is_label(const int32_t *labels, int64_t height,
                           int64_t width, int64_t x, int64_t y, int32_t id) {
  return x >= 0 && y >= 0 && x < width && y < height &&
         labels[y * width + x] == id;
}

/* Outer border of the component whose first raster pixel is (x0, y0), as
 * cv2.findContours(..., CHAIN_APPROX_SIMPLE) emits it: Suzuki-Abe border
 * following, a point written wherever the chain direction changes. Writes
 * (x, y) pairs to `out` (room for `capacity` points); returns the number of
 * points, or -1 when they do not fit. */
static int64_t follow_outer_border(const int32_t *labels, int64_t height,
                                   int64_t width, int64_t x0, int64_t y0,
                                   int32_t *out, int64_t capacity) {
  const int32_t id = labels[y0 * width + x0];
  int64_t num = 0;
  /* Clockwise from "left" (the background side of an outer border) to the
   * first neighbour of the component. */
  int s = 4;
  int64_t x1 = x0, y1 = y0;
  do {
    s = (s - 1) & 7;
    x1 = x0 + DX[s];
    y1 = y0 + DY[s];
  } while (!is_label(labels, height, width, x1, y1, id) && s != 4);
  if (s == 4) { /* a single pixel */
    if (capacity < 1) return -1;
    out[0] = (int32_t)x0;
    out[1] = (int32_t)y0;
    return 1;
  }
  int64_t x3 = x0, y3 = y0, x4 = x0, y4 = y0;
  int prev_s = s ^ 4;
  for (;;) {
    /* Counter-clockwise from the direction after s to the next border
     * pixel; the component has another pixel, so one of 8 is found. */
    int t = s;
    do {
      ++t;
      x4 = x3 + DX[t & 7];
      y4 = y3 + DY[t & 7];
    } while (!is_label(labels, height, width, x4, y4, id) && t < 15);
    s = t & 7;
    if (s != prev_s) {
      if (num >= capacity) return -1;
      out[2 * num] = (int32_t)x3;
      out[2 * num + 1] = (int32_t)y3;
      ++num;
      prev_s = s;
    }
    if (x4 == x0 && y4 == y0 && x3 == x1 && y3 == y1) break;
    x3 = x4;
    y3 = y4;
    s = (s + 4) & 7;
  }
  return num;
}

/* Outer contour of each listed id that is a single 8-connected component.
 *
 * first (flat index of each id's first raster pixel) and components (see
 * label_moments) are given for each of the num_ids ids. For id k, points
 * offsets[k]..offsets[k + 1] - 1 of `points` ((x, y) int32 pairs, room for
 * `capacity` points) are its contour; an id of several components gets no
 * points (the caller traces those another way). Returns the number of
 * points written, or -1 when `capacity` is too small. */
int64_t trace_single_contours(const int32_t *labels, int64_t height,
                              int64_t width, int64_t num_ids,
                              const int64_t *first,
                              const int64_t *components, int32_t *points,
                              int64_t capacity, int64_t *offsets) {
  int64_t num = 0;
  offsets[0] = 0;
  for (int64_t k = 0; k < num_ids; ++k) {
    if (components[k] == 1) {
      const int64_t y0 = first[k] / width, x0 = first[k] - y0 * width;
      const int64_t got = follow_outer_border(
          labels, height, width, x0, y0, points + 2 * num, capacity - num);
      if (got < 0) return -1;
      num += got;
    }
    offsets[k + 1] = num;
  }
  return num;
}

/* Pixel count of every id of a label map of `size` pixels: area[id] for id
 * in [0, max_id] (zeroed by the caller). */
int64_t label_areas(const int32_t *labels, int64_t size, int64_t max_id,
                    int64_t *area) {
  for (int64_t i = 0; i < size; ++i) {
    const int64_t id = labels[i];
    if (id < 0 || id > max_id) return -(i + 1);
    area[id] += 1;
  }
  return 0;
}
