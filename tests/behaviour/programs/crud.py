"""Users CRUD: add / add_all / get / update / delete / commit on a plain Session(engine)."""
from sqlalchemy import String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    email: Mapped[str] = mapped_column(String(100), unique=True)
    active: Mapped[bool] = mapped_column(default=True)


engine = create_engine("sqlite://")


def create_user(session, name, email):
    user = User(name=name, email=email)
    session.add(user)
    session.commit()
    # Read after commit: the sync Session reloads the expired attribute.
    return user.id


def rename_user(session, user_id, new_name):
    user = session.get(User, user_id)
    old_name = user.name
    user.name = new_name
    session.commit()
    return old_name


def deactivate(session, email):
    user = session.query(User).filter_by(email=email).one()
    user.active = False
    session.flush()
    return user.id


def delete_user(session, user_id):
    user = session.get(User, user_id)
    if user is None:
        return False
    session.delete(user)
    session.commit()
    return True


def list_users(session):
    users = session.query(User).order_by(User.id).all()
    result = []
    for user in users:
        result.append((user.id, user.name, user.email, user.active))
    return result


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        alice_id = create_user(session, "alice", "alice@example.com")
        bob_id = create_user(session, "bob", "bob@example.com")
        session.add_all(
            [
                User(name="carol", email="carol@example.com"),
                User(name="dave", email="dave@example.com"),
            ]
        )
        session.commit()
        print("created:", alice_id, bob_id)
        print("users:", list_users(session))

        old = rename_user(session, bob_id, "robert")
        print("renamed:", old, "->", session.get(User, bob_id).name)

        carol_id = deactivate(session, "carol@example.com")
        session.commit()
        print("deactivated:", carol_id)

        print("delete bob:", delete_user(session, bob_id))
        print("delete bob again:", delete_user(session, bob_id))
        print("get bob:", session.get(User, bob_id))

        dave = session.query(User).filter(User.name == "dave").first()
        dave.email = "dave@example.org"
        session.commit()
        print("dave email:", dave.email)

        print("users:", list_users(session))


if __name__ == "__main__":
    main()
