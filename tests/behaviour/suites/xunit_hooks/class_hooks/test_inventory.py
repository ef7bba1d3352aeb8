from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from shelf_inventory import Base, names, stock, total


class InventoryCase:
    """Each test gets its own database, built and dropped by pytest's xunit hooks."""

    def setup_method(self, method):
        self.engine = create_engine("sqlite://")
        Base.metadata.create_all(self.engine)
        self.session = Session(self.engine)
        stock(self.session, "bolt", 3)

    def teardown_method(self, method):
        self.session.close()
        self.engine.dispose()


class TestInventory(InventoryCase):
    def test_total(self):
        assert total(self.session) == 3

    def test_names(self):
        stock(self.session, "nut", 1)
        assert names(self.session) == ["bolt", "nut"]


class TestRestocked(InventoryCase):
    def setup_method(self, method):
        super().setup_method(method)
        stock(self.session, "washer", 10)

    def test_total(self):
        assert total(self.session) == 13
