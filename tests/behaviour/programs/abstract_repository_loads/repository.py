import abc

from models import Shelf


class BaseRepository(abc.ABC):
    def get(self, code):
        return self._get(code)

    @abc.abstractmethod
    def _get(self, code):
        raise NotImplementedError


class SqlRepository(BaseRepository):
    def __init__(self, session):
        self.session = session

    def _get(self, code):
        return self.session.query(Shelf).filter_by(code=code).first()
