"""What the keyframes of a video show, looked at cheaply (a keyframe is decoded without the frames
between it and the next): each as a small grayscale grid, whether two of them differ in much of the
picture, and whether one is black. Chapter detection and the quality report decode closely only the
stretches between keyframes where something happened."""
from PIL import ImageChops

GRID = (32, 18)  # cells of a keyframe's picture
CELL_CHANGE = 12  # of 255: a cell whose brightness moved more than this changed
CHANGED_SHARE = 0.2  # a fifth of the cells changed: a new slide or shot (a speaker moving changes a corner)
DARK = 26  # of 255: blackdetect's default "darker than a tenth of white"
BLACK_SHARE = 0.99  # of the cells dark: a black picture


def picture_of(frame):
    return frame.reformat(width=GRID[0], height=GRID[1], format="rgb24").to_image().convert("L")


def changed(before, after):
    """Whether much of the picture differs between two keyframes' pictures."""
    moved = ImageChops.difference(before, after).point(lambda value: 255 if value > CELL_CHANGE else 0)
    return moved.histogram()[255] >= CHANGED_SHARE * before.width * before.height


def is_black(picture):
    return sum(picture.histogram()[:DARK]) >= BLACK_SHARE * picture.width * picture.height


def stretches_to_look_at(keyframes, duration):
    """(start, end) seconds between consecutive keyframes [(time, picture)] where the picture changed or
    is black, and from the last keyframe to the end; overlapping ones merged."""
    spans = []
    for (before_time, before), (after_time, after) in zip(keyframes, keyframes[1:]):
        if changed(before, after) or is_black(before) or is_black(after):
            spans.append((before_time, after_time))
    if keyframes and (duration is None or duration > keyframes[-1][0]):
        spans.append((keyframes[-1][0], duration))
    merged = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged
