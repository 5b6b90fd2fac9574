"""The join card: the short link attendees open, and its QR code, built from the address the server listens on."""

import io
import ipaddress
import os
import socket

import segno
import streamlit as st

JOIN_URL_ENV = "MIA_JOIN_URL"  # the address the room should open, when the server sits behind another name
WILDCARD = ("", "0.0.0.0", "::")
NO_SIGN_UP = "no sign-up: you choose a nickname to play"
SIDEBAR_NOTE = "no sign-up: just a nickname"  # NO_SIGN_UP in one line of the sidebar
SIDEBAR_CODE = 140  # px: the sidebar's QR code, under the page links


def lan_address() -> str | None:
    """This machine's address on its default route (a UDP socket's 'connect' sends nothing), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.254.254.254", 1))
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if ipaddress.ip_address(address).is_loopback else address


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def join_url(listen: str | None, port: int, *, lan: str | None, override: str | None = None,
             path: str = "game") -> tuple[str, bool]:
    """The link for the room, and whether the room can reach it. `listen`: the server's --server.address;
    `lan`: this machine's address on the network; `override`: $MIA_JOIN_URL."""
    if override:
        return f"{override.rstrip('/')}/{path}", True
    listen = (listen or "").strip()
    if listen in WILDCARD:
        host, reachable = lan or "localhost", lan is not None
    elif is_loopback(listen):
        host, reachable = lan or listen, False
    else:
        host, reachable = listen, True
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}{'' if port == 80 else f':{port}'}/{path}", reachable


def qr_png(text: str, *, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()


def room_link() -> tuple[str, bool]:
    """The link for the room from this server's settings and $MIA_JOIN_URL, and whether the room can reach it."""
    return join_url(st.get_option("server.address"), int(st.get_option("server.port")), lan=lan_address(),
                    override=os.environ.get(JOIN_URL_ENV))


def join_card(*, size: int = 300, container=st, beside: bool = False) -> str:
    """The keyed card (`st-key-join`) with the QR code and the link; returns the link. `beside`: the words to the
    right of the code, for a wide, short screen; else above and below it."""
    url, reachable = room_link()
    with container.container(key="join", border=True):
        code, words = st.columns([1, 2], vertical_alignment="center") if beside else (st, st)
        words.markdown("**Join the room:** scan the code, or open")
        words.subheader(f"[{url.split('://', 1)[1]}]({url})", anchor=False)
        code.image(qr_png(url), width=size, caption=None if beside else NO_SIGN_UP)
        if beside:
            words.caption(NO_SIGN_UP)
        if not reachable:
            words.warning("This server listens on this computer only, so the room cannot open the link. Start it "
                          "with `streamlit run app.py --server.address 0.0.0.0` (on the room's network).")
    return url


def sidebar_join_card() -> str:
    """The join card (`st-key-join`) in the sidebar, under the page links: the link, a code of SIDEBAR_CODE px and
    SIDEBAR_NOTE, one line each, so that the whole card fits a 1280x720 projector. Whether the room can reach the
    link is the first screen's card's to say (`join_card`); returns the link."""
    url, _ = room_link()
    with st.sidebar.container(key="join", border=True):
        st.markdown(f"**Join:** [{url.split('://', 1)[1]}]({url})")
        st.image(qr_png(url), width=SIDEBAR_CODE)
        st.caption(SIDEBAR_NOTE)
    return url
