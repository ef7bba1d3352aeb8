from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table
from sqlalchemy.orm import registry, relationship

metadata = MetaData()
mapper_registry = registry(metadata=metadata)

shelves = Table("shelves", metadata, Column("id", Integer, primary_key=True),
                Column("code", String(20)))
boxes = Table("boxes", metadata, Column("id", Integer, primary_key=True),
              Column("shelf_id", ForeignKey("shelves.id")), Column("size", Integer))


class Box:
    def __init__(self, size):
        self.size = size


class Shelf:
    def __init__(self, code, boxes):
        self.code = code
        self.boxes = boxes  # the mapped relationship, also set by the constructor

    def biggest(self):
        return max(b.size for b in self.boxes)


def start_mappers():
    mapper_registry.map_imperatively(Box, boxes)
    mapper_registry.map_imperatively(Shelf, shelves, properties={"boxes": relationship(Box)})
