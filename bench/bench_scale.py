"""stub"""


def scale_table(sizes: tuple[int, ...]) -> list[str]:
    return []
