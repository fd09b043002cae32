"""Browser-side behaviour of the kiosk's screens, as CSS and JavaScript text
for :mod:`kiosk.style` and the screens (no Streamlit import here, so it is
testable alone).

- **Touch guard.** A touch that lands before a newly painted screen has been
  visible for :data:`TOUCH_GUARD_MS` is dropped, as is any touch between an
  accepted tap and the next screen. Measured in the browser (a
  ``MutationObserver`` notes when the screen's marker container changes, the
  next animation frame is its paint), never on the server, whose clock knows
  nothing of when the patient could see the question. Without it, the next
  question painted under a finger answers itself with a second touch
  600-900 ms after the first.
- **Top of the screen.** Every new screen starts scrolled to the top.
- **Number pad.** Inputs that take digits only (the staff PIN) carry
  ``inputmode="numeric"`` and ``pattern="[0-9]*"``, set again whenever
  Streamlit re-renders them, so a tablet opens its number pad.
- **Within reach.** The navigation bar (Prefer not to answer, Next, Back,
  Stop) is fixed to the bottom of the viewport; the question scrolls above
  it. The language buttons of the welcome screen form a grid.
"""

from __future__ import annotations

import json

# Long enough that a second touch of a double tap (≤ 1 s apart) lands inside
# it, short against the time needed to read a question.
TOUCH_GUARD_MS = 1000
# After an accepted tap the controls stay inert until the next screen is
# painted; if the server never answers, they wake up after this.
BUSY_LIMIT_MS = 4000
# The server counts as done with a tap that left the screen as it was (a box
# ticked, a warning) once it has been idle this long.
QUIET_MS = 300

SCREEN_PREFIX = "kiosk-screen-"
NAV_KEY = "kiosk-nav"
LANGS_KEY = "kiosk-langs"
# Widget keys of text inputs that take digits only.
NUMERIC_KEYS = ("staff-pin",)
# Height kept free under the question for the fixed navigation bar.
NAV_RESERVE = "11.5rem"


def screen_key(*parts: object) -> str:
    """Key of the container that holds one screen: a new key is a new screen
    for the touch guard and the scroll reset."""
    return SCREEN_PREFIX + "-".join(str(p) for p in parts)


def layout_css() -> str:
    """CSS of the screens: compact top, the fixed navigation bar, the
    language grid."""
    return f"""
[data-testid="stMainBlockContainer"] {{ padding-top: 1.2rem !important; padding-bottom: {NAV_RESERVE} !important; }}
.st-key-{NAV_KEY} {{ position: fixed; bottom: 0; left: 0; right: 0; z-index: 99; gap: 0.5rem;
  background: rgba(255, 255, 255, 0.98); box-shadow: 0 -2px 8px rgba(0, 0, 0, 0.12);
  padding: 0.5rem max(1rem, calc((100vw - 46rem) / 2)) 0.6rem; }}
.st-key-{NAV_KEY} [data-testid="stHorizontalBlock"] {{ gap: 0.5rem; flex-wrap: nowrap; }}
.st-key-{NAV_KEY} [data-testid="stColumn"] {{ min-width: 0; flex: 1 1 0; }}
/* Buttons side by side are as tall as the tallest (a wrapped label makes
   no step in the bar): each level down to the button fills its column. */
.st-key-{NAV_KEY} [data-testid="stHorizontalBlock"] {{ align-items: stretch !important; }}
.st-key-{NAV_KEY} [data-testid="stColumn"] *:has(> .stButton), .st-key-{NAV_KEY} [data-testid="stColumn"] .stButton,
.st-key-{NAV_KEY} [data-testid="stColumn"] .stButton *:has(button) {{ height: 100%; }}
[data-testid="stMain"] .st-key-{NAV_KEY} [data-testid="stColumn"] .stButton button {{ height: 100%; }}
[data-testid="stMain"] .st-key-{NAV_KEY} .stButton button {{ min-height: 56px; }}
/* Two buttons a row leave half the width: a long label ("Je préfère ne pas
   répondre") wraps onto a second line rather than ending in an ellipsis. */
.st-key-{NAV_KEY} .stButton button div, .st-key-{NAV_KEY} .stButton button p {{ white-space: normal !important;
  overflow: visible !important; text-overflow: clip !important; line-height: 1.2; }}
.st-key-{LANGS_KEY} {{ display: grid !important; grid-template-columns: repeat(auto-fill, minmax(9rem, 1fr));
  gap: 0.45rem; }}
[data-testid="stMain"] .st-key-{LANGS_KEY} .stButton button {{ min-height: 56px; }}
.st-key-{LANGS_KEY} > div {{ width: auto !important; }}
[data-testid="stMain"] [data-testid="stHeaderActionElements"] {{ display: none !important; }}
/* The welcome screen greets in every language at once: compact, so the
   language grid stays in view however many languages there are. */
.st-key-{SCREEN_PREFIX}welcome h1 {{ font-size: 1.35rem !important; line-height: 1.5 !important;
  padding: 0 0 0.2rem !important; font-weight: 600 !important; }}
.st-key-{SCREEN_PREFIX}welcome p {{ font-size: 0.9rem !important; color: #555; margin: 0; }}
.st-key-kiosk-crisis-line [data-testid="stText"] {{ font-family: inherit; font-size: 1.7rem; font-weight: 700;
  white-space: pre-wrap; line-height: 1.4; }}
"""


def rtl_css() -> str:
    """Right-to-left pages (Arabic, Dari, Pashto): Streamlit has no RTL
    support, and mirroring the main container is not enough. Paragraphs,
    hints, warnings and list items align to their start (Streamlit sets a
    physical left alignment); lists indent on the right, so consent bullets
    stay inside the column; the progress bar fills from the right."""
    text = ('[data-testid="stMain"] :is([data-testid="stMarkdown"], [data-testid="stCaptionContainer"], '
            '[data-testid="stProgress"], [data-testid="stAlert"], [data-testid="stText"])')
    return f"""
[data-testid="stMain"] {{ direction: rtl; }}
{text} :is(p, li, div) {{ text-align: start !important; direction: rtl; }}
[data-testid="stMain"] [data-testid="stMarkdown"] :is(ul, ol) {{ padding-left: 0 !important; margin-left: 0 !important;
  padding-right: 1.4em !important; margin-right: 0 !important; }}
[data-testid="stMain"] [data-testid="stMarkdown"] li {{ margin-left: 0 !important; }}
[data-testid="stMain"] [data-testid="stProgressBarTrack"] {{ transform: scaleX(-1); }}
"""


def guard_script(guard_ms: int = TOUCH_GUARD_MS) -> str:
    """JavaScript installed once per page load (``window.__kioskGuard``):
    the touch guard and the scroll reset described in the module text.

    ``window.__kioskGuard.ready()`` tells whether a touch would be taken now
    (the browser tests wait for it, as a reader would).

    No ``<`` may appear in the script's text: Streamlit's frontend drops a
    ``st.html`` script in which ``<`` precedes a digit (``n<50``), silently.
    """
    digits = ",".join(f".st-key-{k} input" for k in NUMERIC_KEYS)
    return ("(function(){const w=window;if(w.__kioskGuard){return;}"
            f"const P={json.dumps('st-key-' + SCREEN_PREFIX)};"
            f"const g={{ms:{int(guard_ms)},shown:performance.now(),sig:undefined,busy:0,ran:false}};"
            "w.__kioskGuard=g;"
            # A screen is its marker container's key and the key of its
            # first answer button (each carries the screen's position): a
            # change of either is a new screen.
            "const keyOf=(el,pre)=>{if(!el){return '';}for(const c of el.classList){if(c.startsWith(pre)){return c;}}"
            "return '';};"
            "const sig=()=>keyOf(document.querySelector('[class*=\"'+P+'\"]'),P)+'|'+keyOf(document.querySelector("
            "'[data-testid=\"stMain\"] [class*=\"-c-\"][class*=\"st-key-\"],"
            "[data-testid=\"stMain\"] [class*=\"-m-\"][class*=\"st-key-\"]'),'st-key-');"
            "const running=()=>!document.querySelector('[data-test-script-state=\"notRunning\"]');"
            "const top=()=>{w.scrollTo(0,0);document.querySelectorAll('[data-testid=\"stMain\"],"
            "[data-testid=\"stAppViewContainer\"],[data-testid=\"stAppScrollToBottomContainer\"],"
            "[data-testid=\"stMainBlockContainer\"]').forEach((e)=>{e.scrollTop=0;});};"
            "g.ready=()=>!g.busy&&performance.now()-g.shown>=g.ms;"
            # Digits-only inputs: the number pad, on every render.
            f"const pad=()=>{{document.querySelectorAll({json.dumps(digits)}).forEach((i)=>{{"
            "if(i.getAttribute('inputmode')!=='numeric'){i.setAttribute('inputmode','numeric');"
            "i.setAttribute('pattern','[0-9]*');i.setAttribute('autocomplete','off');}});};"
            "const check=()=>{pad();const s=sig();"
            # A new screen: it counts as shown from its next frame on.
            "if(s!==g.sig){g.sig=s;g.busy=0;g.shown=performance.now()+1e9;top();"
            "requestAnimationFrame(()=>{g.shown=performance.now();top();});return;}"
            # The same screen again after a tap (a tick, a warning): awake
            # once the server's run that the tap started is over.
            # Between two runs of one tap (a rerun, a page switch) the state
            # is briefly "notRunning": only a quiet spell counts as the end.
            "if(g.busy){const now=performance.now();if(running()){g.quiet=0;}"
            "else if(g.ran||now-g.busy>" + str(BUSY_LIMIT_MS) + "){if(!g.quiet){g.quiet=now;}"
            "else if(now-g.quiet>=" + str(QUIET_MS) + "){g.busy=0;g.quiet=0;}}}};"
            "new MutationObserver((rs)=>{if(g.busy&&rs.some((r)=>r.attributeName==='data-test-script-state'))"
            "{g.ran=true;}check();}).observe(document.body,{childList:true,subtree:true,attributes:true,"
            "attributeFilter:['class','data-test-script-state']});check();"
            "const guarded=(t)=>t&&t.closest&&t.closest('[data-testid=\"stMain\"] button')"
            "&&!t.closest('.st-key-kiosk-idle');"
            "const stop=(e)=>{e.preventDefault();e.stopImmediatePropagation();};"
            "w.addEventListener('click',(e)=>{if(!e.isTrusted||!guarded(e.target)){return;}"
            "if(!g.ready()){stop(e);return;}g.busy=performance.now();g.ran=false;g.quiet=0;},true);"
            "['pointerdown','mousedown','pointerup','mouseup'].forEach((t)=>w.addEventListener(t,(e)=>{"
            "if(e.isTrusted&&guarded(e.target)&&!g.ready()){e.stopImmediatePropagation();}},true));"
            # Watchdog: a busy flag whose run ended without a mutation.
            "setInterval(check,50);"
            "})();")


# Zero digit of CLDR's decimal numbering systems that babel names as a
# locale's default (``Locale.default_numbering_system``); babel has the
# name and the symbols but not the digits. Each system's ten digits are
# consecutive code points in Unicode.
_ZERO = {"arab": 0x0660, "arabext": 0x06F0, "beng": 0x09E6, "deva": 0x0966, "mymr": 0x1040,
         "tibt": 0x0F20, "olck": 0x1C50, "nkoo": 0x07C0, "adlm": 0x1E950, "mtei": 0xABF0,
         "cakm": 0x11136, "hmnp": 0x1E140, "java": 0xA9D0, "rohg": 0x10D30}


def numerals(value: int, lang: str) -> str:
    """``value`` written with the digits of ``lang``'s default numbering
    system according to CLDR (Extended Arabic-Indic digits in Dari and
    Pashto; Latin digits where CLDR says so, as for Arabic and French)."""
    from babel.numbers import format_decimal

    from surveycore.i18n import babel_locale
    loc = babel_locale(lang)
    system = loc.default_numbering_system
    text = format_decimal(value, locale=loc, numbering_system="default")
    zero = _ZERO.get(system)
    if zero is None:
        return text
    return "".join(chr(zero + ord(ch) - 48) if "0" <= ch <= "9" else ch for ch in text)


def idle_script(seconds: int | None) -> str:
    """JavaScript of the idle timer: after ``seconds`` without a touch,
    press the hidden "kiosk-idle" button if the screen has one (the server
    seals the partial response), then return the browser to ``/`` by a full
    reload. ``None`` disarms the timer (the welcome screen has nothing to
    clear). Also, once per page load, a watch that starts afresh from the
    welcome screen when the server comes back after a restart."""
    if seconds is None:
        return "if(window.__kioskIdle){clearTimeout(window.__kioskIdle.t);window.__kioskIdle=null;}"
    return ("(function(){"
            "const w=window; if(w.__kioskIdle){clearTimeout(w.__kioskIdle.t);}"
            f"const ms={int(seconds) * 1000};"
            "const s={t:null}; w.__kioskIdle=s;"
            "const fire=()=>{const b=document.querySelector('.st-key-kiosk-idle button');"
            "if(b){b.click(); setTimeout(()=>w.location.replace('/'),5000);} else {w.location.replace('/');}};"
            "s.arm=()=>{clearTimeout(s.t); s.t=setTimeout(fire, ms);};"
            "if(!w.__kioskIdleBound){w.__kioskIdleBound=true;"
            "['pointerdown','keydown','touchstart'].forEach(e=>document.addEventListener(e,"
            "()=>{if(w.__kioskIdle){w.__kioskIdle.arm();}},true));}"
            "s.arm();"
            # After a server restart this browser holds a page of a session
            # the server no longer knows: as soon as the server answers
            # again (seen down, or under a new name: kiosk.asgi.BootMark),
            # start afresh from the welcome screen.
            "if(!w.__kioskWatch){let down=false,boot=null;w.__kioskWatch=setInterval(()=>{"
            "fetch('/_stcore/health',{cache:'no-store'}).then(r=>{const b=r.headers.get('x-kiosk-boot');"
            "if(r.ok&&(down||(boot&&b&&b!==boot))){w.location.replace('/');}"
            "else if(r.ok){boot=boot||b;}else{down=true;}}).catch(()=>{down=true;});},1000);}"
            "})();")
