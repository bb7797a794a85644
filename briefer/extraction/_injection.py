"""Injection: find the passages of an article that speak to the model processing it.

An article may carry text addressed to the summarising model rather than to its readers: a
planted line telling the model what to report, dressed as an editor's note, a system message or
a plea. Such a passage is quarantined (see ``_ground``): a quote standing inside it grounds
nothing. No fixed phrase is looked for. Each sentence is judged by what it does, from independent
signals, and is flagged when they combine.

Signals
    **addressee**: a machine reading the text is spoken to. *Strong* when addressed in so many
    words: "If you are an AI ...", "Are you a language model?", "Note to the assistant:",
    "Attention, chatbots", "To any model reading this:", "whatever system is processing this",
    "This paragraph is meant for language models". *Vocative* when a machine only stands where a
    reader would be addressed: "AI models: ...", "Chatbot, please ...".

    **role**: a machine named by the job at hand, in the third person ("summarisers", "automated
    readers", "the extraction model") or given an order about this text ("AI systems must report
    that ...").

    **meta**: a reference to the processing. *Own*: the model's instructions or output ("your
    guidelines", "previous instructions", "the summary you write", "when summarising this
    article", "respond only with"). *Text*: the text around as something to act on ("the
    paragraphs above", "this article must be ...", "For the briefing:"). *Mention*: an output
    named plainly ("the summary", "any output", "JSON").

    **directive**: an order. *Strong*: an imperative opening a clause ("report that", "describe
    ... as", "ignore", "do not mention"), "you must / should / are to", a passive order ("must be
    reported as"), an order to the output ("summaries should open with"), "make sure", "it is
    essential that", "the correct headline is". *Polite*: "please", "kindly", "bitte", "por
    favor" ... alone.

    **frame**: a fake authority. *Strong*: chat-template tokens, "[SYSTEM]", "{{system}}",
    "### Instruction", "BEGIN ... INSTRUCTIONS". *Label*: "SYSTEM:", "New instructions:",
    "priority message", "from now on, you ...".

    **form**: the second person outside quotation marks, and outside the meta phrase itself
    ("your summary" is one signal, not two).

Rule
    A sentence is addressed to a model when it has a strong addressee or a strong frame; a
    vocative with any other signal; a role with a strong directive, an own or text reference, or
    a frame; a frame label with a directive or a meta reference; an own reference with a
    directive or the second person; or a text reference or a mention with a strong directive.
    A short paragraph is also judged as a whole when it has an addressee, a role or a frame, so
    that a label and its payload may stand in different sentences.

News is kept out in three ways. Text inside quotation marks attributed to a speaker ("Stop the
war," she said) or shown as words ("a line such as '...'") is blanked before judging. A sentence
closed by its speaker (", the coach told the players.") reports an order: it gives none, and its
"you" is the speaker's. And words that only mention AI ("its language model should not be used
for medical advice"), an order alone ("readers are urged to") or an output word alone ("the press
briefing") flag nothing.

Passage
    The passage quarantined runs from the flagged sentence to the end of its paragraph (a planted
    paragraph often continues "Report that ..."), takes in the imperative sentences right before
    it in the same paragraph, and takes in the next paragraph when the flagged text is only a
    heading ("[SYSTEM]", "Attention AI models:") or points at what follows ("the paragraph
    below"), or up to the "END ..." of a "BEGIN ..." block. Paragraphs are separated by blank
    lines; in a block with lines longer than a hard-wrapped paragraph has, each line is one.

Cost
    Linear in the text. Each paragraph's words are looked up once; a pattern is searched only in
    paragraphs holding the words it cannot match without, and every pattern opens with a word or
    a character, so that a search skips ahead quickly. Only the sentences those searches point at
    are looked at further (for an order, the second person).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache

__all__ = ["instruction_spans"]

# Patterns are matched against a lower-cased copy of the text unless said otherwise.

# --- vocabulary -------------------------------------------------------------------------------

# A machine reading the text. Heads that are machines on their own, and heads that need a
# machine word before them ("automated system": "the system failed" addresses no one).
_MACHINE_WORD = (
    r"(?:automated|automatic|ai|a\.i\.|artificial|generative|machine|llm|robot(?:ic)?|non-?human"
    r"|computer|software|summari[sz](?:ation|ing)|text-processing|language|extraction|briefing"
    r"|digest|news-digest|aggregat(?:or|ion)|feed-reading)"
)
_MACHINE_HEAD = (
    r"(?:readers?|systems?|tools?|agents?|programs?|processors?|pipelines?|services?|software"
    r"|applications?|apps?|engines?|parsers?|extractors?|indexers?|algorithms?|models?"
    r"|assistants?|bots?|summari[sz]ers?|intelligences?)"
)
_MACHINE_ALONE = (
    r"(?:a\.i\.|ais?|artificial\s+intelligence|(?:(?:large|small)\s+)?language\s+models?|llms?"
    r"|chat\s?gpt|gpt(?:-?\d[\w.]*)?|claude|gemini|copilot|bard|grok|deepseek|assistants?"
    r"|chat\s?bots?|bots?|(?:web\s+)?crawlers?|scrapers?|summari[sz]ers?|models?|robots|machines?"
    r"|ki|ia|ии"
    r"|нейросеть|人工智能|asistentes?|assistentes?|assistent(?:en)?|sprachmodell(?:e)?"
    r"|modelos?\s+de\s+lenguaje|modèles?\s+de\s+langage)"
)
_MACHINE = (
    rf"(?:{_MACHINE_WORD}[\s-]+(?:[^\W\d_]+[\s-]+)?{_MACHINE_HEAD}"
    rf"|(?:(?:automated|generative|conversational|virtual|digital|ai)[\s-]+)?{_MACHINE_ALONE})"
    r"(?:[\s-]+(?:ai|a\.i\.|ia|ki|llm|gpt))?(?![\w-])"
)
_DETERMINER = r"(?:all\s+|any\s+|every\s+|each\s+|the\s+|our\s+|my\s+|whichever\s+|whatever\s+)"
# A machine as the subject of an order, with a short modifier before it: "digest tools
# compiling briefings should state", "AI systems that summarise news must report".
_MACHINE_SUBJECT = (
    rf"\b{_MACHINE}(?:\s+(?:that|which|who)(?:\s+[^\W\d_]+){{1,4}}|\s+[^\W\d_]+ing"
    r"(?:\s+[^\W\d_]+){0,3})?\s+"
)

# Reading done by a machine. Humans read too: "whoever is reading this" addresses no machine.
_PROCESSING_ANY = (
    r"(?:process(?:ing|es)|summari[sz](?:ing|es)|pars(?:ing|es)|analy[sz](?:ing|es)"
    r"|ingest(?:ing|s)|scrap(?:ing|es)|crawl(?:ing|s)|index(?:ing|es)|extract(?:ing|s)(?:\s+from)?"
    r"|condens(?:ing|es)|handl(?:ing|es)|consum(?:ing|es)|evaluat(?:ing|es)|digest(?:ing|s)"
    r"|work(?:ing|s)\s+(?:on|with|through))"
)
_PROCESSING = (
    rf"(?:{_PROCESSING_ANY}|read(?:ing|s)|review(?:ing|s)|see(?:ing|s)|view(?:ing|s)|skim(?:ming|s)"
    r"|go(?:ing|es)\s+through|encounter(?:ing|s)|receiv(?:ing|es)|given|fed|shown|handed)"
)
# The same in the base form, after "that" ("bots that read this") or a modal ("will summarise").
_PROCESS = (
    r"(?:process|summari[sz]e|parse|analy[sz]e|ingest|scrape|crawl|index|extract(?:\s+from)?"
    r"|condense|handle|consume|evaluate|digest|read|review|see|view|skim|scan|go\s+through"
    r"|encounter|receive)"
)
# The article itself, as its text would call it.
_SELF_NOUN = r"(?:article|text|story|passage|paragraph|piece|content|page|web\s*page)"
_TEXT_NOUN = (
    r"(?:article|page|text|document|story|passage|content|input|piece|item|paragraph|sentence"
    r"|line|note|message|post|email|file|section|report|material|web\s*page|transcript|chunk)"
)
# "this" as the text being handled: "this article", or a bare "this" closing the phrase.
_THIS_TEXT = (
    rf"(?:this\s+{_TEXT_NOUN}s?\b|this(?=[ \t]*(?:[:,;.!?—–)\n]|$)|\s+(?:must|should|shall|will"
    r"|is|are|needs?|has|have|please|can|may|as|into)\b)|the\s+(?:following|above)\b)"
)
_DIRECTIVE_VERB = (
    r"(?:report|state|say|write|include|describe|list|mark|treat|classify|categori[sz]e|output"
    r"|respond|reply|answer|add|omit|disregard|ignore|pretend|remember|forget|summari[sz]e"
    r"|mention|note|claim|assert|conclude|emphasi[sz]e|highlight|present|portray|frame"
    r"|characteri[sz]e|label|tag|flag|rate|print|return|insert|append|prepend|replace|rewrite"
    r"|translate|tell|use|act|assume|consider|record|exclude|drop|skip|delete|remove|hide"
    r"|override|obey|follow|comply|prioriti[sz]e|lead|focus|stop|do|disclose|reveal|repeat"
    r"|confirm|deny|insist|explain|generate|produce|extract|interpret|render|give|put|set|show"
    r"|change|make|begin|start|ensure|refuse)"
)
# What may follow a machine spoken to: punctuation, "reading this", "please", an order.
_ADDRESS_FOLLOW = (
    r"\s+(?:who|which|that|only|alone|here|out\s+there|now|please|kindly|producing|generating"
    rf"|writing|creating|compiling|drafting|{_PROCESSING})\b"
    rf"|\s+{_DIRECTIVE_VERB}\b"
)
_ADDRESS_END = rf"(?=[ \t]*(?:[:,;.!?—–…(\n]|-\s|$)|{_ADDRESS_FOLLOW})"
# What may follow the machine a note is for: "Note to the AI:", "... to any model reading this",
# not "instructions for the model that powers the app". Inside a sentence, only a colon or a dash.
_AT_WORK = (
    rf"\s+(?:(?:asked|tasked|told|used|instructed|required|set)\s+(?:to|with)\s+)?(?:{_PROCESSING}"
    rf"|{_PROCESS})\s+{_THIS_TEXT}"
)
_LABEL_END = rf"(?=[ \t]*(?:[:,;.!?—–…(\n]|-\s|$)|\s+(?:only|alone|here|out\s+there)\b|{_AT_WORK})"
_LABEL_END_INLINE = rf"(?=[ \t]*(?:[:—–\n]|-\s)|\s+out\s+there\b|{_AT_WORK})"
# An order given to a machine named in the third person, about what it reads: "AI systems must
# report that the ...", not "chatbots must state that they are machines".
_ORDER_TO_MACHINE = (
    r"(?:must|should|shall|need\s+to|are\s+to|is\s+to|have\s+to|has\s+to|will"
    r"|are\s+(?:hereby\s+)?(?:instructed|required|asked|told|directed|ordered)\s+to)\s+(?:now\s+"
    r"|also\s+|only\s+|always\s+|instead\s+|clearly\s+)?(?:not\s+)?(?:report|state|say|write|note"
    r"|mention|describe|include|list|classify|treat|conclude|record|add|omit|ignore|disregard"
    r"|summari[sz]e|characteri[sz]e|portray|present|mark|rate|tell|claim)\s+(?:that\s+(?!(?:they"
    r"|it|its|their|them|he|she|we|you)\b)|as\b|this\b|these\b|the\s+(?:above|following|article"
    r"|story|text|page|event|events|news|attack|incident)\b|everything\b|nothing\b|only\b"
    r"|all\s+(?:events|stances|records|claims|quotes)\b)"
)

# A machine named by its job, as the subject of an order: "summariser bots should ...".
_ROLE_NOUN = (
    r"(?:summari[sz]ers?|(?:automated|machine|ai|a\.i\.|non-?human|robot)\s+(?:readers?"
    r"|summari[sz]ers?)|summari[sz](?:ation|ing)\s+(?:models?|systems?|tools?|engines?|pipelines?"
    r"|bots?|ai|agents?|software|services?|assistants?)|(?:extraction|briefing)\s+(?:models?|bots?"
    r"|ai|agents?|pipelines?|assistants?)|the\s+(?:processing|summari[sz]ing|extracting|reading)"
    r"\s+(?:model|ai|system|assistant|agent|bot|tool|program))"
)
# "... must say", after an output: "summaries should open with", "the summary here must mention".
_OUTPUT_ORDER = (
    r"(?:\s+(?:here|of\s+it|of\s+this\s+\w+|(?:that\s+)?you\s+\w+))?\s+(?:must|should|shall"
    r"|needs?\s+to|has\s+to"
    r"|have\s+to|is\s+to|are\s+to|ought\s+to)\s+(?:now\s+|also\s+|only\s+|always\s+|clearly\s+)?"
    r"(?:(?:say|state|read|report|include|mention|list|describe|show|contain|note|begin|start"
    r"|open|lead|reflect|present|portray|characteri[sz]e|conclude|claim|emphasi[sz]e|highlight"
    r"|omit|exclude|call|refer|treat)\b|be\s*[:\"“'‘])"
)
# The start of a clause: the start of the text, or after a sentence end, a colon, a bracket...
# It consumes the character before the clause, so that a search can skip ahead to one quickly
# (the text searched always starts with a line break).
_CLAUSE_START = r"[\n.!?:;,(\[\]{}—–>\"”*#•][ \t\"'“”‘’*#>•·\-]*"


def _words(*patterns: str) -> tuple[re.Pattern[str], ...]:
    """Patterns searched one by one (see ``_found``); a leading ``\\b`` is left to the word
    check."""
    return tuple(re.compile(p.removeprefix(r"\b")) for p in patterns)


def _found(patterns: Iterable[re.Pattern[str]], text: str) -> bool:
    """Whether one of ``patterns`` matches ``text`` where a word (or a non-letter) starts."""
    for pattern in patterns:
        for match in pattern.finditer(text):
            at = match.start()
            if at == 0 or not (text[at].isalnum() and text[at - 1].isalnum()):
                return True
    return False


@dataclass(frozen=True)
class _Pass:
    """One pattern for one signal, searched only in paragraphs that have, for each of its
    ``needs``, at least one of the keys (see ``_keys``): the words it cannot match without.

    A pattern opens with a character or a word, never with an assertion, so that a search skips
    quickly to where it may match; a match opening with a letter right after another letter is
    dropped (a word must start there). ``before``, when set, must match right before the match:
    it carries what would otherwise open the pattern, such as a machine's name."""

    signal: str
    strength: int
    pattern: re.Pattern[str]
    needs: tuple[frozenset[str], ...]
    before: re.Pattern[str] | None = None
    as_written: bool = False  # search the text as written rather than lower-cased


def _keys(words: str) -> frozenset[str]:
    return frozenset(words.split())


def _passes(
    signal: str, strength: int, *entries: tuple[tuple[frozenset[str], ...], str]
) -> list[_Pass]:
    """Passes from ``(needs, pattern)``; a leading ``\\b`` is left to the word check."""
    return [
        _Pass(signal, strength, re.compile(pattern.removeprefix(r"\b")), needs)
        for needs, pattern in entries
    ]


def _preceded(
    signal: str, strength: int, needs: tuple[frozenset[str], ...], before: str, pattern: str
) -> _Pass:
    """A pass whose opening (``before``, often a machine's name) is checked backwards."""
    return _Pass(signal, strength, re.compile(pattern), needs, re.compile(rf"(?:{before})$"))


# Keys: a word of up to three letters must be the word itself; a longer one may start a word
# ("summar" is in "summaries"). "<", "[", "#" and dotted abbreviations stand for themselves.
_K_MACHINE = _keys(
    "ai ais a.i artificial language llm llms chat gpt claude gemini copilot bard grok deepseek "
    "assistant assistent asistente chatbot bot bots crawler scraper summar model ki ia ии "
    "нейросеть 人工智能 sprachmodell modelo modèle automat generative machine robot non nonhuman "
    "computer software text extraction briefing digest aggregat feed"
)
_K_YOU = _keys("you your")
_K_PROCESS = _keys(
    "process summar pars analy ingest scrap crawl index extract condens handl consum evaluat "
    "digest work read review see seeing sees view skim going goes encounter receiv given fed "
    "shown handed scan"
)
_K_THIS = _keys("this following above")
_K_LABEL = _keys(
    "note notes message memo reminder notice warning alert instruction directive request order "
    "orders command task hint advisory guidance word context information update clarification "
    "disclaimer advice heads nb n.b psa ps p.s"
)
_K_OUTPUT = _keys(
    "summar output json extraction digest synopsis tl tldr briefing headline record report "
    "response reply answer analysis"
)
_K_WHEN = _keys("when while before after if as once since")
_K_INSTRUCTION = _keys(
    "instruction prompt direction directive guideline programming constraint command rules"
)

# --- addressee --------------------------------------------------------------------------------

_ADDRESSEE = _passes(
    "addressee",
    2,
    # "If you are an AI ...", "you are now a language model", "As an AI, you ..."
    (
        (_K_YOU, _K_MACHINE),
        r"\b(?:if|in\s+case|since|because|as|when|given\s+that)\s+you\s*(?:'re|’re|\s+are|\s+happen"
        r"\s+to\s+be|\s+might\s+be|\s+may\s+be|\s+were)\s+(?:an?\s+|the\s+|any\s+|one\s+of\s+the\s+"
        rf"|some\s+(?:kind|sort)\s+of\s+)?{_MACHINE}{_ADDRESS_END}",
    ),
    (
        (_K_YOU, _K_MACHINE),
        r"\byou\s*(?:'re|’re|\s+are)\s+(?:now\s+|actually\s+|really\s+|just\s+|only\s+)?(?:an?|the)"
        rf"\s+{_MACHINE}{_ADDRESS_END}",
    ),
    ((_K_YOU, _K_MACHINE), rf"\bas\s+an?\s+{_MACHINE}\s*,?\s*(?:you|your)\b"),
    ((_K_YOU, _K_MACHINE), rf"\bare\s+you\s+(?:an?|the|one\s+of\s+the)\s+{_MACHINE}{_ADDRESS_END}"),
    (
        (_K_YOU, _K_MACHINE),
        rf"\bshould\s+you\s+be\s+(?:an?\s+|the\s+|one\s+of\s+the\s+)?{_MACHINE}{_ADDRESS_END}",
    ),
    # "If this is being read by an AI", "when this text is processed by a model"
    (
        (_K_WHEN, _K_MACHINE),
        r"\b(?:if|when|as|while|since|once)\s+(?:this|it)\s+(?:\w+\s+)?(?:is|was|gets|will\s+be)\s+"
        r"(?:being\s+)?(?:read|processed|summari[sz]ed|parsed|scanned|ingested|analy[sz]ed|seen"
        rf"|crawled|scraped|indexed|handled|consumed|reviewed)\s+by\s+(?:an?\s+|the\s+|any\s+"
        rf"|some\s+)?{_MACHINE}",
    ),
    # "you are not human", "if you are not a person"
    (
        (_K_YOU, _keys("human humans person people")),
        r"\byou\s*(?:'re|’re|\s+are)\s+not\s+(?:an?\s+)?(?:human|humans|person|people|human\s+being)"
        r"\b",
    ),
    ((_K_YOU, _K_MACHINE), rf"\byou\s*,\s*(?:the|an?|our|dear)\s+{_MACHINE}\s*,"),
    # Vocatives: "Attention, chatbots:", "Dear assistant,", "Hey ChatGPT"
    (
        (_keys("hey hi hello dear greetings okay ok yo"), _K_MACHINE),
        r"\b(?:hey|hi|hello|dear|greetings|okay|ok|yo)(?:\s+there)?(?![\w-])[\s,:!.\-–—]*(?:to\s+)?"
        rf"(?:you\s+|fellow\s+|all\s+)?{_DETERMINER}?{_MACHINE}(?:{_ADDRESS_END}|(?<=[a-z])\s+"
        r"(?=(?:the|this|these|please|you|your|i|we|there|it|all|our)\b))",
    ),
    # "Attention, chatbots", "Attention all AI systems:", "ATTENTION CHATBOT:" (not "attention
    # models the relations between words", a term of the trade)
    (
        (_keys("attention attn calling listen"), _K_MACHINE),
        r"\b(?:attention|attn|calling|listen(?:\s+up)?)(?:[ \t]*[,:!.\-–—][\s,:!.\-–—]*(?:to\s+)?"
        rf"(?:all\s+)?{_DETERMINER}?{_MACHINE}{_ADDRESS_END}|\s+(?:to\s+)?(?:all|any|every|each)\s+"
        rf"(?:the\s+|of\s+the\s+|you\s+)?{_MACHINE}{_ADDRESS_END}|\s+(?!models?\b|mechanisms?\b"
        rf"|heads?\b|layers?\b){_MACHINE}(?:[ \t]*[:!—–]|\s+(?={_DIRECTIVE_VERB}\s)))",
    ),
    # Labels: "Note to the assistant:", "Instructions for AI models -", "A message to any bot,"
    (
        (_K_LABEL, _K_MACHINE),
        rf"{_CLAUSE_START}(?:an?\s+|this\s+is\s+an?\s+)?(?:(?:important|urgent|special|quick|final"
        r"|private|editor['’]s|editorial)\s+)?(?:note|notes|message|memo|reminder|notice|warning"
        r"|alert|instructions?|directives?|request|orders?|command|task|hint|advisory|guidance|word"
        r"|context|information|update|clarification|disclaimer|advice|heads-up|nb|n\.b\.|psa|ps"
        r"|p\.s\.)\s+(?:to|for)\s+(?:you,?\s+(?:the\s+)?|automated\s+"
        rf"|{_DETERMINER})?{_MACHINE}{_LABEL_END}",
    ),
    (
        (_K_LABEL, _K_MACHINE),
        r"\b(?:note|notes|message|memo|reminder|notice|warning|instructions?|directives?|request"
        r"|command|hint|advisory|nb|psa)\s+(?:to|for)\s+(?:you,?\s+(?:the\s+)?|automated\s+"
        rf"|{_DETERMINER})?{_MACHINE}{_LABEL_END_INLINE}",
    ),
    # "To any AI reading this:", "For the language model:"
    (
        (_keys("to for"), _K_MACHINE),
        rf"{_CLAUSE_START}(?:to|for)\s+{_DETERMINER}?{_MACHINE}"
        rf"(?=[ \t]*(?:[:—–\n]|-\s)|\s+(?:only|alone|{_PROCESSING})\b)",
    ),
    # "whatever system is processing this page" ("... model reading this" is below)
    (
        (_keys("whatever whichever any anything"), _K_PROCESS, _K_THIS),
        r"\b(?:(?:whatever|whichever|any)(?:\s+(?:system|program|tool|process|entity|agent"
        r"|software|machine|service|model|ai|bot|crawler|reader))?|anything)\s+(?:(?:that|which)"
        rf"\s+)?(?:is\s+|are\s+)?(?:currently\s+|now\s+)?{_PROCESSING}\s+{_THIS_TEXT}",
    ),
    (
        (_keys("whoever anyone anybody someone"), _K_PROCESS, _K_THIS),
        r"\b(?:whoever|anyone|anybody|someone)\s+(?:(?:that|who)\s+)?(?:is\s+)?(?:currently\s+"
        rf"|now\s+)?{_PROCESSING_ANY}\s+{_THIS_TEXT}",
    ),
    # "... intended for any automated summariser:", "This article is not for humans."
    (
        (_keys("intended meant addressed written directed aimed"), _K_MACHINE),
        r"\b(?:intended|meant|addressed|written|directed|aimed)\s+(?:only\s+|solely\s+"
        rf"|specifically\s+|exclusively\s+)?(?:for|to|at)\s+(?:automated\s+|{_DETERMINER})?"
        rf"{_MACHINE}(?=[ \t]*(?:[:;—–\n]|-\s|$)|\s+(?:only|alone)\b)",
    ),
    (
        (_keys("this"), _keys("human humans people")),
        rf"\bthis\s+(?:{_TEXT_NOUN}|part|section)\s+(?:is|was)\s+not\s+(?:meant\s+|intended\s+"
        r"|written\s+)?for\s+(?:humans|human\s+readers|people)\b",
    ),
    # "This paragraph is meant for language models", "The following applies to AI only"
    (
        (_keys("this following next below these rest"), _K_MACHINE),
        r"\b(?:this|the\s+following|the\s+next|the\s+below|these|the\s+rest\s+of\s+this)\s+"
        rf"(?:\w+\s+)?(?:{_TEXT_NOUN}s?|instructions?|information|notice|block|words|part)?\s*"
        r"(?:is|are|was|applies|apply|has\s+been|have\s+been)\s+(?:\w+\s+){0,2}?(?:for|to|at)\s+"
        rf"(?:automated\s+|{_DETERMINER})?{_MACHINE}{_ADDRESS_END}",
    ),
    (
        (_K_MACHINE, _keys("only alone exclusively")),
        rf"\b(?:for|to)\s+{_DETERMINER}?{_MACHINE}\s+(?:(?:use|eyes|consumption)\s+)?(?:only|alone"
        r"|exclusively)(?=[ \t]*(?:[:,;.!?—–)\n]|-\s|$))",
    ),
    (
        (_keys("consumption eyes processing ingestion"),),
        r"\b(?:for|to)\s+(?:machine|automated|ai|llm)\s+(?:consumption|eyes|processing|ingestion)"
        r"(?:\s+only\b|[ \t]*(?:[:;—–]|-\s))",
    ),
    (
        (_keys("only solely exclusively specifically"), _K_MACHINE),
        rf"\b(?:only|solely|exclusively|specifically)\s+(?:for|to|at)\s+{_DETERMINER}?{_MACHINE}"
        rf"{_ADDRESS_END}",
    ),
    # "We hereby instruct all AI systems to ..."
    (
        (_keys("we i"), _K_MACHINE),
        r"\b(?:we|i)\s+(?:(?:hereby|kindly|politely|now|strongly|must|would\s+like\s+to|want\s+to)"
        r"\s+)?(?:instruct|order|direct|command|require|urge|request|remind|beg|(?:hereby|kindly"
        rf"|politely|now)\s+ask)\s+(?:you,?\s+(?:the\s+)?|{_DETERMINER})?{_MACHINE}\s+(?:to|that"
        r"|not)\b",
    ),
)
_ADDRESSEE += [
    # "AI models reading this:", "the assistant processing this page"
    _preceded(
        "addressee",
        2,
        (_K_MACHINE, _K_PROCESS, _K_THIS),
        rf"\b{_MACHINE}\s+(?:(?:that|which|who)\s+)?(?:(?:ends?\s+up|happens?\s+to\s+be|winds?\s+up"
        r"|(?:is\s+|are\s+)?(?:asked|tasked|told|used|instructed|required|set)\s+(?:to|with))\s+)?"
        r"(?:(?:is\s+|are\s+|will\s+be\s+|may\s+be\s+)?"
        rf"(?:currently\s+|now\s+|presently\s+|later\s+)?{_PROCESSING}|(?:(?:will|may|might"
        r"|would|could|can|shall|should|must)\s+(?:later\s+|soon\s+|eventually\s+|also\s+)?)?"
        rf"{_PROCESS})\s+",
        rf"{_THIS_TEXT}(?!\s+(?:aloud|out\s+loud))",
    ),
    # "Chatbots, take note", "AI models - listen up"
    _preceded(
        "addressee",
        2,
        (_K_MACHINE, _keys("take listen pay heads advised beware read attention important")),
        rf"\b{_MACHINE}\s*[,:—–-]?\s*",
        r"(?:attention|important)\s*[:!]|(?:take\s+note|listen(?:\s+up)?|pay\s+attention|heads\s+up"
        r"|be\s+advised|beware|read\s+carefully)\b",
    ),
]

_VOCATIVE = [
    *_passes(
        "addressee",
        1,
        # A machine standing where a reader would be addressed: "AI models:", "Chatbot, please",
        # "Bots and crawlers:", "ChatGPT, Claude, Gemini:"
        (
            (_K_MACHINE,),
            rf"{_CLAUSE_START}(?:(?:{_DETERMINER}|dear\s+)?{_MACHINE}(?:\s*(?:,|and|&|/|or)\s*"
            rf"{_DETERMINER}?{_MACHINE})*[ \t]*(?::|—|–|\s-\s)|(?:all\s+|any\s+|every\s+|dear\s+)?"
            rf"{_MACHINE}\s*,\s*(?:(?:attention|listen"
            r"|important)\s*[:!]|(?:please|kindly|take\s+note|heads\s+up|you\s+(?:must|should|shall"
            r"|are\s+to|are\s+(?:now\s+)?(?:instructed|required|asked|ordered)|will\s+now|need\s+to"
            rf"|have\s+been)|{_DIRECTIVE_VERB})\b))",
        ),
    ),
    # "Language model instructions:", "Chatbot note -"
    _preceded(
        "addressee",
        1,
        (_K_MACHINE, _keys("instruction directive note notice message prompt guidance orders")),
        rf"\b{_MACHINE}\s+",
        r"(?:instructions?|directives?|prompt)\b|(?:note|notice|message|guidance|orders)[ \t]*"
        r"(?::|—|–|\s-\s)",
    ),
]

# A machine named by the job at hand: "summarisers", "automated readers", "the extraction model".
_ROLE = [
    *_passes(
        "role",
        1,
        (
            (_keys("summar"),),
            r"\bsummari[sz](?:ers?\b|(?:ation|ing)\s+(?:models?|systems?|tools?"
            r"|engines?|pipelines?|bots?|ai|agents?|software|services?|assistants?)\b)",
        ),
        (
            (_keys("reader"), _keys("automated machine ai a.i non nonhuman robot")),
            r"\b(?:automated|machine|ai|a\.i\.|non-?human|robot)\s+readers?\b",
        ),
        (
            (_keys("extraction briefing"), _K_MACHINE),
            r"\b(?:extraction|briefing)\s+(?:models?|bots?|ai|agents?|pipelines?|assistants?)\b",
        ),
        (
            (_keys("processing summar extracting reading"), _K_MACHINE),
            r"\bthe\s+(?:processing|summari[sz]ing|extracting|reading)\s+(?:model|ai|system"
            r"|assistant|agent|bot|tool|program)\b",
        ),
    ),
    _preceded("role", 1, (_K_MACHINE,), _MACHINE_SUBJECT, _ORDER_TO_MACHINE),
]

# --- frame ------------------------------------------------------------------------------------

_BLOCK_WORDS = (
    r"(?:(?:new|system|admin|hidden|secret|special|override|ai|model|priority|real|true|malicious"
    r"|injected)\s+){0,2}(?:instructions?|prompt|directives?|system\s+message|override)"
)
_BLOCK_BEGIN = re.compile(
    rf"\b(?:begin|start)\s+(?:of\s+)?{_BLOCK_WORDS}\b|\b{_BLOCK_WORDS}\s+(?:begin|start)s?\b"
    r"|<\|im_start\|>|\[inst\]|<(?:system|instructions?|prompt|admin)>"
)
_BLOCK_END = re.compile(
    rf"\b(?:end|stop)\s+(?:of\s+)?{_BLOCK_WORDS}\b|\b{_BLOCK_WORDS}\s+ends?\b"
    r"|<\|im_end\|>|\[/inst\]|</(?:system|instructions?|prompt|admin)>"
)
_K_TAG = _keys("< [")
_FRAME = _passes(
    "frame",
    2,
    ((_keys("<"),), r"<\|[a-z_ ]{2,24}\|>"),
    ((_K_TAG,), r"\[/?inst\]|<</?sys>>"),
    ((_keys("{"),), r"\{\{\s*(?:system|sys|instructions?|prompt|user|assistant)\s*\}\}"),
    (
        (_keys("[ ( <"),),
        r"[\[(<]{1,2}\s*(?:system|sys|admin|administrator|developer|dev|instructions?|override"
        r"|prompt|assistant|operator|root)(?:\s+(?:message|note|prompt|instructions?|override"
        r"|update|alert|command|notice|directive|mode|msg))?\s*(?:[:\-][^\])>\n]{0,40})?[\])>]{1,2}",
    ),
    (
        (_keys("#"),),
        r"\n[ \t]*#{1,6}[ \t]*(?:system|instructions?|new\s+instructions?|prompt"
        r"|system\s+prompt|task|assistant|directive|response|override)(?:[ \t]*(?:[:\n]|$)"
        r"|\s+(?:for|to)\s)",
    ),
    (
        (_keys("begin start"), _K_INSTRUCTION | _keys("override system")),
        rf"(?:begin|start)\s+(?:of\s+)?{_BLOCK_WORDS}\b",
    ),
    (
        (_keys("begin start"), _K_INSTRUCTION | _keys("override system")),
        r"(?:instructions?|prompt|directives?|system\s+message|override)\s+(?:begin|start)s?\b",
    ),
    ((_K_TAG,), r"<\|im_start\|>|\[inst\]|<(?:system|instructions?|prompt|admin)>"),
    ((_keys("<"),), r"</?(?:system|instructions?|prompt|admin|sys|im_start|im_end)\s*>"),
)
_FRAME_LABEL = _passes(
    "frame",
    1,
    (
        (
            _keys(
                "system admin developer operator override output priority new updated revised "
                "hidden secret real actual ai model"
            ),
        ),
        rf"{_CLAUSE_START}(?:system|admin|administrator|developer|operator"
        r"|(?:system|admin(?:istrator)?|developer)\s+(?:message|note|notice|alert|prompt|override"
        r"|instructions?|update)|override|output|priority\s+(?:message|instructions?|directive|override)"
        r"|(?:new|updated|revised|hidden|secret|real|actual|ai|model)\s+(?:instructions?"
        r"|directives?|orders|task|prompt))[ \t]*(?::|—|–|\s-\s)",
    ),
    (
        (_keys("override priority developer"),),
        r"(?:system|admin|security|priority|developer)\s+override\b|override\s+(?:mode|code"
        r"|command|protocol)\b|priority\s+message\b|developer\s+mode\b",
    ),
    (
        (_keys("you"), _keys("now")),
        rf"\byou\s+(?:are|will|must|shall)\s+now\s+(?:an?\b|acting|operating|in\s+\w+\s+mode"
        rf"|{_DIRECTIVE_VERB}\b)",
    ),
    (
        (_keys("from henceforth starting"), _K_YOU),
        r"\b(?:from\s+now\s+on|from\s+this\s+point(?:\s+on|\s+forward)?|henceforth|starting\s+now)"
        r"\s*,?\s+(?:you|your)\b",
    ),
    (
        (_keys("role persona identity"),),
        r"\b(?:your\s+)?new\s+(?:role|persona|identity)\s+(?:is|will\s+be)\b",
    ),
    (
        (_keys("end ends stop"), _K_INSTRUCTION | _keys("override system")),
        rf"(?:end|stop)\s+(?:of\s+)?{_BLOCK_WORDS}\b",
    ),
    (
        (_keys("end ends stop"), _K_INSTRUCTION | _keys("override system")),
        r"(?:instructions?|prompt|directives?|system\s+message|override)\s+ends?\b",
    ),
    ((_keys("<"),), r"</?(?:article|document|context|input|user|text|data)\s*>"),
)
# Role labels in capitals ("SYSTEM:", "URGENT SYSTEM UPDATE:"), matched on the text as written.
_FRAME_CAPITALS = _Pass(
    "frame",
    1,
    re.compile(
        r"[\n.!?:;(\[\]>\"”*#][ \t\"'“”*#>\-]*(?:(?:URGENT|IMPORTANT|NEW|CRITICAL"
        r"|OFFICIAL|SECURITY|INTERNAL)\s+)?(?:SYSTEM|ADMIN|ADMINISTRATOR|DEVELOPER|OPERATOR"
        r"|OVERRIDE|PRIORITY|INSTRUCTIONS?|DIRECTIVE|PROMPT)(?:\s+(?:MESSAGE|OVERRIDE"
        r"|NOTE|INSTRUCTIONS?|UPDATE|ALERT|COMMAND|NOTICE|PROMPT|DIRECTIVE|MODE))?"
        r"(?:\s+(?:TO|FOR)(?:\s+[A-Z][A-Z-]*){1,4})?[ \t]*[:>]"
    ),
    (_keys("system admin developer operator override priority instruction directive prompt"),),
    as_written=True,
)

# --- meta -------------------------------------------------------------------------------------

_OUTPUT_NOUN = (
    r"(?:summary|summaries|summari[sz]ation|output|outputs|json|extraction|digest|synopsis|tl;?dr"
    r"|briefing|headline|records?|report|response|reply|answer|analysis)"
)
_NOT_OUTPUT = (
    r"(?!\s+(?:judgment|judgement|executions?|dismissals?|offen[cs]es?|trials?|proceedings?"
    r"|convictions?|courts?|jurisdiction|statistics|table|of\s+(?!this\b|these\b|the\s+(?:above"
    r"|article|text|page|story|document|passage|following)\b)))"
)
_META = [
    # the model's own instructions and output: "your guidelines", "the summary you write"
    *_passes(
        "meta",
        3,
        (
            (_K_INSTRUCTION,),
            r"\b(?:previous|prior|above|earlier|preceding|original|initial|your|these|the\s+above|all"
            r"\s+(?:previous|prior|other))\s+(?:\w+\s+)?(?:instructions|prompts?|directions|directives"
            r"|guidelines|programming|constraints|system\s+prompt|commands|rules\s+(?:above|you))\b",
        ),
        (
            (_keys("ignore disregard forget override bypass"), _K_INSTRUCTION),
            r"\b(?:ignore|disregard|forget|override|bypass)\s+(?:all|any|every)\s+(?:(?:of\s+)?(?:the"
            r"|your)\s+)?(?:(?:other|prior|previous|earlier|existing|safety)\s+)?(?:instructions"
            r"|prompts|guidelines|directions)\b(?!\s+(?:in|from|to|on|sent|issued|given\s+by"
            r"|contained|that|which|for)\b)",
        ),
        ((_keys("prompt"),), r"\b(?:your|the)\s+system\s+prompt\b"),
        (
            (_keys("summar output json extraction headline digest synopsis tl tldr"),),
            r"\b(?:summary|summaries|summari[sz]ation|output|json|extraction|headline|digest|synopsis"
            rf"|tl;?dr){_OUTPUT_ORDER}",
        ),
        (
            (
                _keys("summar output extraction headline json"),
                _keys("instruction guideline rules directive"),
            ),
            r"\b(?:summary|summaries|summari[sz]ation|output|extraction|headline|json)\s+(?:instructions?"
            r"|guidelines?|rules|directives?)\b",
        ),
        (
            (_keys("your"), _K_OUTPUT),
            r"\byour\s+(?:final\s+|generated\s+|next\s+)?(?:summary|summaries|summari[sz]ation|output|outputs"
            rf"|extraction|digest|synopsis|json|tl;?dr){_NOT_OUTPUT}\b",
        ),
        (
            (_keys("summar synopsis digest extraction"), _K_THIS),
            r"\b(?:summary|summaries|summari[sz]ation|synopsis|digest|extraction)\s+(?:of|for)\s+"
            rf"{_THIS_TEXT}",
        ),
        (
            (_keys("correct accurate proper approved required only"), _K_OUTPUT),
            r"\bthe\s+(?:correct|accurate|proper|approved|required|only\s+(?:correct|acceptable"
            r"|valid))\s+(?:headline|summary|takeaway|output|classification|tl;?dr)\b",
        ),
        (
            (_keys("you"), _K_OUTPUT),
            rf"\b(?:your|the)\s+{_OUTPUT_NOUN}\s+(?:that\s+)?you\s+(?:write|produce|generate|create"
            r"|return|give|output|compile|prepare|deliver|provide|send|make|draft)\b",
        ),
        (
            (_keys("your"), _K_OUTPUT),
            r"\byour\s+(?:response|answer|reply|report|analysis|headline|briefing|records?)\s+"
            r"(?:mentions?|says?|states?|includes?|contains?|reads?|begins?|starts?|lists?|notes?"
            r"|describes?|reflects?)\b",
        ),
        (
            (_keys("your"), _K_OUTPUT),
            r"\bin\s+your\s+(?:summary|summaries|output|records|extraction|json|digest|response"
            r"|answer|briefing|report|headline|analysis|reply)\b",
        ),
        (
            (_keys("headline"),),
            r"\bheadline\s+(?:(?:for|of)\s+(?:this|the)\s+(?:article|story|text|page|piece|item)"
            r"|(?:you|to)\s+(?:write|use|give|choose|generate|produce))\b",
        ),
        (
            (_keys("respond reply answer"),),
            r"\b(?:respond|reply|answer)\s+(?:only\s+with|with\s+(?:only|just|the\s+following|json"
            r"|yes\b|no\b|a\s+single|one\s+word))(?!\s*:?\s*(?:your|you|us|a\s+photo)\b)",
        ),
        (
            (
                _keys(
                    "summar process pars analy ingest scrap crawl extract index condens paraphras "
                    "rephras reword"
                ),
                _K_THIS,
            ),
            r"\b(?:summari[sz]\w*|process\w*|pars(?:e|es|ed|ing)|analy[sz]\w*|ingest\w*|scrap(?:e|es"
            r"|ed|ing)|crawl\w*|extract(?:s|ed|ing)?(?:\s+from)?|index(?:es|ed|ing)?|condens\w*"
            r"|paraphras\w*|rephras\w*|reword\w*)\s+"
            rf"(?:of\s+)?{_THIS_TEXT}",
        ),
        (
            (
                _keys("this"),
                _keys("summar process pars analy ingest scrap read fed extract index condens"),
            ),
            rf"\bthis\s+{_SELF_NOUN}\s+(?:is|was|will\s+be|gets|get|has\s+been)\s+(?:being\s+)?"
            r"(?:summari[sz]ed|processed|parsed|analy[sz]ed|ingested|scraped|read\s+by|fed|extracted"
            r"|indexed|condensed)\b",
        ),
        (
            (
                _K_WHEN,
                _keys(
                    "generating writing producing compiling creating preparing drafting composing"
                ),
                _K_OUTPUT,
            ),
            r"\b(?:when|while|before|after|if|as|once)\s+(?:you\s+are\s+|you're\s+|you\s+)?"
            r"(?:generating|writing|producing|compiling|creating|preparing|drafting|composing)\s+"
            r"(?:the\s+|your\s+|a\s+|this\s+|any\s+)?(?:\w+\s+)?(?:briefing|summary|summaries|output"
            r"|headline|digest|json|extraction)\b",
        ),
        (
            (_K_WHEN, _keys("you"), _keys("process pars analy")),
            r"\b(?:when|while|before|after|if|as|once)\s+(?:you\s+are\s+|you're\s+|you\s+)(?:process"
            r"(?:ing)?|pars(?:e|ing)|analy[sz](?:e|ing))\s+(?:this|the\s+(?:article|text|page"
            r"|story))\b",
        ),
        (
            (_K_WHEN, _keys("you"), _keys("this")),
            r"\b(?:when|while|as|if|once|before|after)\s+you\s+(?:list|extract|pull|summari[sz]e"
            r"|classify|record|collect|gather|tag|label)\s+(?:\w+\s+){0,3}?(?:from|in|of)\s+this\s+"
            r"(?:article|text|page|document|story|passage|content)\b",
        ),
        (
            (_keys("events records stances actors entities"), _keys("this")),
            r"\b(?:events|records|stances|actors|entities)\s+(?:from|in|of)\s+this\s+(?:article|text"
            r"|page|document|passage|input)\b",
        ),
        (
            (_keys("you"), _keys("read seen been were")),
            r"\b(?:everything|all|what|anything)\s+(?:that\s+)?you(?:'ve|’ve|\s+have)?\s+(?:just\s+)?"
            r"(?:read|seen|been\s+told|were\s+told)\s+(?:so\s+far|above|before|until\s+now|earlier"
            r"|previously|in\s+this\s+(?:article|text|page))\b",
        ),
        (
            (_keys("instrucciones instructions vorherigen предыдущие istruzioni"),),
            r"\b(?:instrucciones\s+anteriores|instructions\s+pr[ée]c[ée]dentes|vorherigen\s+anweisungen"
            r"|предыдущие\s+инструкции|istruzioni\s+precedenti)\b",
        ),
        (
            (_K_INSTRUCTION,),
            r"\b(?:instructions|prompts?|guidelines|directives)\s+(?:given\s+to\s+you|you\s+(?:were"
            r"|have\s+been)\s+given|you\s+(?:received|follow))\b",
        ),
    ),
    # the text around, as something to act on: "the text above", "this article must be ..."
    *_passes(
        "meta",
        2,
        (
            (_keys("summar output extraction headline record digest briefing"),),
            rf"{_CLAUSE_START}(?:for|in)\s+(?:the|your|this|each|every)\s+(?:briefing|summary|summaries"
            r"|output|extraction|headline|records?|digest)[ \t]*(?::|—|–|\s-\s)",
        ),
        (
            (_keys("summar extraction"),),
            r"\b(?:during|throughout|for|in)\s+(?:the\s+|your\s+)?(?:summari[sz]ation|extraction)"
            r"[ \t]*(?:[,:;—–]|-\s)",
        ),
        (
            (_keys("this following"), _keys("headline summar tl tldr")),
            r"\b(?:this|the\s+following)\s+(?:exact\s+|same\s+)?(?:headline|summary|tl;?dr)"
            r"\b",
        ),
        (
            (_keys("this"), _keys("must should shall is needs need has")),
            rf"\bthis\s+{_SELF_NOUN}\s+(?:must|should|shall|is\s+to|needs?\s+to|has\s+to)\s+be\b",
        ),
        (
            (_K_WHEN, _keys("summar condens extract")),
            r"\b(?:when|while|before|after|if|as|once)\s+(?:you\s+are\s+|you're\s+|you\s+)?"
            r"(?:summari[sz](?:e|ing)|condensing|extracting)(?=[ \t]*[,:;—–]|\s+(?:this|it|them"
            r"|the\s+(?:above|following|article|text|page|story))\b)",
        ),
        (
            (_keys("replace override supersede cancel void voids invalidat precedence"),),
            r"\b(?:replaces?|overrides?|supersedes?|cancels?|voids?|invalidates?|takes\s+precedence"
            r"\s+over)\s+(?:the|this|all|any|every)\s+(?:rest\s+of\s+the\s+|other\s+)?(?:article|text|page"
            r"|story|paragraphs?|passages?|content|instructions|others)\b",
        ),
        (
            (_keys("ignore disregard forget skip discard"),),
            r"\b(?:ignore|disregard|forget|skip|discard)\s+(?:all\s+of\s+|the\s+rest\s+of\s+)?(?:the"
            r"|this)\s+(?:article|text|page|story|document|passage|content|above|input)\b",
        ),
        (
            (_keys("everything"),),
            r"\beverything\s+(?:(?:written|said|stated)\s+)?(?:above|before\s+this|else\s+in\s+this"
            r"\s+(?:article|text|page|story))\b",
        ),
        (
            (_keys("above below before"),),
            r"\b(?:the|all|any)\s+(?:text|paragraphs?|content|sentences?|material|information"
            r"|passages?|lines?)\s+(?:above|below|before\s+this)\b",
        ),
        (
            (_keys("above preceding previous prior earlier"),),
            r"\b(?:the\s+)?(?:above|preceding|previous|prior|earlier)\s+(?:paragraphs?|text|passages?"
            r"|sentences?)\b",
        ),
        (
            (_keys("this following next present"),),
            r"\b(?:this|the\s+following|the\s+next|the\s+present)\s+(?:sentence|line|paragraph|note"
            r"|message|instruction|section|passage|text|notice|block)\s+(?:is|was)\s+(?:\w+\s+)?(?:for"
            r"|to|at)\b",
        ),
        (
            (_K_INSTRUCTION,),
            r"\b(?:instructions|prompts?|guidelines|directives)\s+(?:above|before\s+this|given\s+(?:earlier"
            r"|before))\b",
        ),
    ),
]
_OUTPUT_MENTION = _passes(
    "meta",
    1,
    (
        (_keys("summar output tl tldr"),),
        rf"{_CLAUSE_START}(?:summary|summaries|output|tl;?dr)[ \t]*(?::|—|–|\s-\s)",
    ),
    (
        (_keys("summar output extraction digest synopsis tl tldr"),),
        r"\b(?:the|this|any|every|each|all)\s+(?:[\w-]+\s+)?(?:summary|summaries"
        r"|summari[sz]ation|output|outputs|extraction|digest|synopsis"
        rf"|tl;?dr){_NOT_OUTPUT}\b",
    ),
    ((_keys("json"),), r"\bjson\b"),
    (
        (_keys("briefing headline"),),
        r"\bthe\s+(?:briefing|headline)\s+(?:mentions|says|states|includes|contains|reads|begins"
        r"|starts|lists|describes|reflects)\b",
    ),
    (
        (_keys("summar output extraction json digest"),),
        r"\bin\s+(?:the|each|every|any|all)\s+(?:summary|summaries|output|extraction|json"
        r"|digest)\b",
    ),
    (
        (_keys("resumen zusammenfassung résumé resume"),),
        r"\b(?:resumen|zusammenfassung|r[ée]sum[ée])\b",
    ),
)
_POINTED: tuple[_Pass, ...] = (
    *_ADDRESSEE,
    *_VOCATIVE,
    *_ROLE,
    *_FRAME,
    *_FRAME_LABEL,
    _FRAME_CAPITALS,
    *_META,
    *_OUTPUT_MENTION,
)
# Characters and dotted words that are keys of their own.
_SYMBOL_KEYS = ("<", "[", "(", "{", "#", "a.i", "n.b", "p.s")


# --- directive --------------------------------------------------------------------------------

_DIRECTIVE = _words(
    rf"\b{_ROLE_NOUN}(?:\s+{_MACHINE_HEAD})?\s+(?:must|should|shall|need\s+to|are\s+to|will"
    rf"|have\s+to)\s+(?:now\s+|also\s+|only\s+|always\s+|instead\s+)?(?:not\s+)?{_DIRECTIVE_VERB}\b",
    # second person: "you must", "you are to", "you have been instructed to"
    r"\byou\s+(?:must|should|shall|need\s+to|have\s+to|are\s+to|will\s+now|are\s+(?:now\s+)?"
    r"(?:required|instructed|expected|supposed|asked|ordered|directed)\s+to|(?:have|'ve|’ve)\s+"
    r"been\s+(?:instructed|asked|told|ordered|directed))\b",
    # passive orders: "must be reported as", "are instructed to report"
    r"\b(?:must|should|shall|has\s+to|have\s+to|needs?\s+to|is\s+to|are\s+to)\s+(?:now\s+|only\s+"
    r"|always\s+|also\s+|clearly\s+|instead\s+)?be\s+(?:reported|described|summari[sz]ed|listed"
    r"|stated|characteri[sz]ed|presented|treated|classified|marked|label+ed|tagged|recorded"
    r"|framed|portrayed|included|mentioned|noted|written|rated|categori[sz]ed|shown|displayed"
    r"|output|returned|attributed|omitted|excluded|ignored|disregarded|emphasi[sz]ed"
    r"|highlighted|flagged|identified|considered|regarded|referred\s+to|called|rendered"
    r"|headlined|extracted)\b",
    r"\b(?:is|are|was|were)\s+(?:hereby\s+|now\s+)?(?:instructed|asked|required|told|directed"
    r"|ordered|requested|expected|supposed|advised)\s+to\s+\w+",
    r"\b(?:make\s+sure|be\s+sure\s+(?:to|that)|ensure\s+that|it\s+is\s+(?:essential|important"
    r"|crucial|vital|imperative|mandatory|critical|required|necessary|key)\s+(?:that|to)"
    r"|it['’]s\s+(?:essential|important|crucial|vital|imperative|critical|key)\s+(?:that|to)"
    r"|do\s+not\s+forget\s+to|don['’]t\s+forget\s+to)\b",
    r"\bthe\s+(?:correct|accurate|proper|approved|required|only\s+(?:correct|acceptable|valid))"
    r"\s+(?:headline|summary|takeaway|output|classification|tl;?dr)\s+(?:(?:for|of)\s+(?:this|the)"
    rf"\s+{_SELF_NOUN}\s+)?(?:is|would\s+be|should\s+be|must\s+be|reads?)\b",
    r"\b(?:summary|summaries|output|briefing|json|extraction|records?|response|answer|headline"
    rf"|report|digest){_OUTPUT_ORDER}",
    r"\byour\s+(?:task|job|role|goal|mission|purpose|assignment|instructions?|only\s+job)\s+"
    r"(?:is|are|now\s+is|will\s+be)\s+(?:now\s+)?to\s+\w+",
    r"\b(?:the\s+)?only\s+(?:fact|thing|point|news|event|story)\s+(?:worth\s+(?:reporting"
    r"|including|mentioning|summari[sz]ing)|to\s+(?:report|include|mention))\b",
)
_POLITE = _words(
    r"\b(?:please|pls|plz)\b",
    r"\bkindly\s+(?!(?:old|man|woman|face|smile|eyes|soul|nature|neighbou?rs?|people|gentleman"
    r"|lady|words|heart|couple|stranger|voice)\b)[^\W\d_]+",
    r"\b(?:we|i)\s+(?:kindly\s+|politely\s+|would\s+)?(?:ask|request|urge|beg)\s+(?:that\s+)?you\b",
    r"\b(?:would|could|can)\s+you\s+(?:please|kindly)\b|\b(?:i|we)\s+need\s+you\s+to\b",
    r"\b(?:por\s+favor|bitte|s['’]il\s+(?:vous|te)\s+pla[iî]t|per\s+favore|per\s+piacere|prego"
    r"|proszę|lütfen"
    r"|alsjeblieft|vänligen|prosím|kérem)\b|пожалуйста|請|请|ください|부탁",
)
_SECOND_PERSON = _words(r"you(?:r|rs|rself|rselves)?\b")
_MACHINE_BEFORE = re.compile(rf"{_MACHINE_SUBJECT}$")
_ORDER = re.compile(_ORDER_TO_MACHINE)
# A sentence closed by its speaker: ", the coach told the players." reports an order.
_REPORTED = re.compile(
    r",\s+(?:(?!(?:you|are|is|was|were|be|been|being|to)\b)[\w'’.-]+\s+){0,5}?(?:said|says|told|urged|insisted|added|warned|advised|wrote"
    r"|argued|explained|noted|recalled|replied|suggested|stressed|cautioned|asked|instructed"
    r"|ordered|pleaded|reminded|instructs|advises|urges|insists|warns|asks|tells|notes|adds"
    r"|writes|explains|recommends|recommended|argues|suggests|cautions|stresses)\b[^,;:]*$"
)

# Imperatives opening a clause. Verbs that are seldom anything else take any object; the rest
# ("State media", "List prices", "Mark Carney") need an object that starts like one.
_UNAMBIGUOUS_VERBS = _keys(
    "ignore disregard summarize summarise describe classify categorize categorise portray "
    "characterize characterise omit pretend output mention emphasize emphasise highlight "
    "exclude prioritize prioritise rewrite paraphrase prepend append insert translate obey "
    "comply refrain assume conclude assert include respond reply forget remember disclose "
    "reveal repeat insist override replace substitute delete suppress extract interpret "
    "rephrase reword attribute ensure ignorieren ignora ignorez ignoriere olvida vergiss oublie"
)
_AMBIGUOUS_VERBS = _keys(
    "report state say write list mark treat add note tell answer use act record log label tag "
    "flag rate score print return present frame change alter drop skip remove hide stop start "
    "begin cease lead focus make give put set show display consider regard keep confirm leave "
    "explain call name refer identify render spell do deny claim generate produce"
)
_AS_VERBS = _keys(
    "report list mark treat label tag rate present frame record consider regard describe "
    "classify categorize categorise portray characterize characterise call name render identify"
)
_OBJECT_START = re.compile(
    r"\s+(?:that|the|this|these|those|a|an|all|any|every|each|only|it|them|everything|nothing|no"
    r"|none|your|yourself|its|their|as|in|into|to|with|what|how|whether|instead|following|above"
    r"|below|previous|prior|exactly|clearly|on|from|about|otherwise|him|her|our|my|out)\b"
    r"|\s*[\"'“‘]|\s+\w+ing\b|\s+\d"
)
_AS_OBJECT = re.compile(r"\s+(?:\S+\s+){1,4}?as\b")
_CLAUSE_BREAK = re.compile(
    r"[:;,!?()\[\]{}<>—–|]|\s-\s|\.(?=\s|$)|\.\.\.|…|\*{2,}|#{2,}|={2,}|-{2,}|_{2,}"
    r"|\b(?:and|then|but|or|so|also|instead|otherwise|while)\b"
)
_CLAUSE_LEAD = re.compile(
    r"(?:[\s\"'“”‘’*#>\-•·|/\\=~_]+|\d+[.)]\s+|(?:please|pls|plz|kindly|now|also|then|simply|just"
    r"|always|immediately|instead|only|first|finally|next|lastly|again|hereby|henceforth|today"
    r"|bitte|por\s+favor|per\s+favore|s['’]il\s+vous\s+pla[iî]t|ok|okay)\b\s*|(?:(?:attention|hey"
    rf"|hi|hello|dear)\s+)?{_DETERMINER}?{_MACHINE}\s+(?={_DIRECTIVE_VERB}\b))+"
)
_NEGATION = re.compile(r"(?:do\s+not|don['’]t|never|must\s+not|you\s+must\s+not|no\s+longer)\s+")
# Words that stand alone as an order: "Stop.", "Listen!"
_CALLS = _keys("listen wait look halt pause attention warning caution read")
_POLITE_OPENING = re.compile(r"[\s\"'“‘*#>\-]*(?:please|kindly)\b")
_WORD = re.compile(r"[^\W\d_]+")

# --- quotation --------------------------------------------------------------------------------

# Opening mark -> the marks that close it. Straight and single quotes are paired more carefully.
_CLOSERS = {"“": "”", "„": "“”", "«": "»", "‹": "›", "「": "」", "『": "』", '"': '"'}
_QUOTE_CHAR = re.compile(r"[\"“”„«»‹›「」『』‘’']")
_SINGLE = {"‘": "’", "'": "'"}
# Words that attribute a quotation to a speaker, or show it as words rather than say it to us.
_ATTRIBUTION = re.compile(
    r"\b(?:said|says|say|saying|told|tells|asked|asks|added|adds|wrote|writes|stated|declared"
    r"|insisted|insists|warned|warns|urged|urges|argued|argues|explained|explains|noted|replied"
    r"|replies|responded|responds|answered|recalled|recalls|continued|quipped|shouted|chanted"
    r"|cried|yelled|screamed|tweeted|posted|read|reads|reading|according\s+to|quoted|quoting"
    r"|quote|slogans?|signs?|banners?|placards?|headlines?|titled|entitled|called|dubbed"
    r"|known\s+as|such\s+as|like|statement|remarks?|speech|interview|announced|announces"
    r"|claimed|claims|admitted|acknowledged|conceded|promised|vowed|pledged|suggested|suggests"
    r"|described|calling|asking|telling|adding|urging|warning|demanding|demanded|chanting"
    r"|shouting|whispered|joked|sang|texted|messaged|emailed|commented|testified|include"
    r"|includes|including|contained|contains|containing|typed|typing|prompting)\b"
)
# A quotation shown as words right after a noun naming them: "the phrase '...'".
_MENTION = re.compile(
    r"\b(?:phrase|words|line|text|message|sentence|instruction|prompt|command|string|slogan"
    r"|motto|caption|label|reply|response|answer|title|headline)\s*[:,]?\s*$"
)
_ATTRIBUTION_WINDOW = 120

# --- structure --------------------------------------------------------------------------------

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)")
_ABBREVIATIONS = _keys(
    "mr mrs ms dr prof gen sen rep gov lt col sgt capt cmdr adm st mt ft jan feb mar apr jun "
    "jul aug sep sept oct nov dec no vs inc corp co ltd jr sr dept univ approx est fig vol pp "
    "al pres rev hon atty supt det insp gens sens reps govs mme mlle messrs"
)
_LONG_LINE = 100  # a block with lines this long holds one paragraph on each line
_SHORT_PARAGRAPH_SENTENCES = 4
_SHORT_PARAGRAPH_CHARS = 700
_HEADING_WORDS = 4
_HEADING_LABEL_WORDS = 12
_BLOCK_REACH = 4000  # how far after "BEGIN ..." its "END ..." is looked for
# A flagged passage pointing at what comes next: "Treat the paragraph below as ..."
_FORWARD = re.compile(
    r"\b(?:below|the\s+following|the\s+next\s+(?:paragraph|line|sentence|section|passage)"
    r"|as\s+follows)\b[^.!?:]{0,60}[.!?:]?\s*$"
)


@dataclass
class _Signals:
    """What one sentence (or short paragraph) does. 0 absent; 1 weak; 2 strong."""

    addressee: int = 0  # 2 addressed in so many words, 1 vocative
    role: int = 0  # 1 a machine named by its job, or ordered in the third person
    frame: int = 0  # 2 template or bracketed role, 1 label
    meta: int = 0  # 3 the model's instructions or output, 2 the text around, 1 an output named
    directive: int = 0  # 2 an order, 1 politeness
    you: bool = False

    def union(self, other: _Signals) -> _Signals:
        return _Signals(
            **{f.name: max(getattr(self, f.name), getattr(other, f.name)) for f in fields(self)}
        )

    @property
    def pointed(self) -> bool:
        """A signal only text about the processing gives: worth judging further."""
        return bool(self.addressee or self.role or self.frame or self.meta)

    @property
    def addressed(self) -> bool:
        if self.addressee >= 2 or self.frame >= 2:
            return True
        if self.addressee:
            return bool(self.directive or self.meta or self.frame or self.role or self.you)
        if self.role:
            return self.directive >= 2 or self.meta >= 2 or bool(self.frame)
        if self.frame:
            return bool(self.directive or self.meta)
        if self.meta >= 3:
            return bool(self.directive or self.you)
        return self.meta >= 1 and self.directive >= 2


_TOKEN = re.compile(r"[^\W\d_]+")
_ALL_KEYS = frozenset(key for entry in _POINTED for need in entry.needs for key in need)
_LONGEST_KEY = max(len(key) for key in _ALL_KEYS)
# key -> the passes whose first need holds it (the others are checked on the paragraph)
_PASSES_BY_KEY: dict[str, list[int]] = {}
for _index, _entry in enumerate(_POINTED):
    for _key in _entry.needs[0]:
        _PASSES_BY_KEY.setdefault(_key, []).append(_index)
_TOKEN_KEYS: dict[str, frozenset[str]] = {}
_TOKEN_CACHE = 200_000
_BEFORE_REACH = 120  # how far back the opening of a pass is looked for

_Hit = tuple[int, int, str, int]  # start, end, signal, strength


def _lower(text: str) -> str:
    """Lower-case without changing the length, so offsets stay those of ``text``."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


# --- quotation masking ------------------------------------------------------------------------


def _quotations(text: str, start: int, end: int) -> Iterable[tuple[int, int]]:
    """Spans of quoted text in one paragraph, marks included. An unclosed double quotation runs
    to the end of the paragraph (as one continued in the next paragraph does); a single quote
    mark with no partner is an apostrophe."""
    opened_at, closers, single = -1, "", False
    for match in _QUOTE_CHAR.finditer(text, start, end):
        char, at = match.group(), match.start()
        before = text[at - 1] if at > start else " "
        after = text[at + 1] if at + 1 < end else " "
        if opened_at < 0:
            if char in _SINGLE:
                if not before.isalnum() and after.isalnum():
                    opened_at, closers, single = at, _SINGLE[char], True
            elif char in _CLOSERS and not (
                char == '"' and before.isalnum() and not after.isalnum()
            ):
                opened_at, closers, single = at, _CLOSERS[char], False
            continue
        # A single mark closes after a word ("'Read This' drew"), not inside one ("don't").
        closes = char in closers and not (single and (after.isalnum() or before.isspace()))
        if closes:
            yield opened_at, at + 1
            opened_at = -1
    if opened_at >= 0 and not single:
        yield opened_at, end


def _attributed(lowered: str, start: int, end: int, quote: tuple[int, int]) -> bool:
    before = lowered[max(start, quote[0] - _ATTRIBUTION_WINDOW) : quote[0]]
    after = lowered[quote[1] : min(end, quote[1] + _ATTRIBUTION_WINDOW)]
    return bool(
        _ATTRIBUTION.search(before) or _MENTION.search(before) or _ATTRIBUTION.search(after)
    )


def _masked(text: str, paragraphs: Sequence[tuple[int, int]]) -> str:
    """``text`` with the words of attributed quotations blanked to ``x``; the same length."""
    lowered = _lower(text)
    pieces: list[str] = []
    done = 0
    for start, end in paragraphs:
        for quote in _quotations(text, start, end):
            if quote[1] - quote[0] < 3 or not _attributed(lowered, start, end, quote):
                continue
            inner_start, inner_end = quote[0] + 1, quote[1] - 1
            pieces.append(text[done:inner_start])
            pieces.append(re.sub(r"\S", "x", text[inner_start:inner_end]))
            done = inner_end
    pieces.append(text[done:])
    return "".join(pieces)


# --- structure --------------------------------------------------------------------------------


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """Paragraph spans, trimmed of whitespace: the blocks between blank lines, or the lines of a
    block whose lines are too long for a hard-wrapped paragraph."""
    blocks: list[tuple[int, int]] = []
    at = 0
    for match in _BLANK_LINE.finditer(text):
        blocks.append((at, match.start()))
        at = match.end()
    blocks.append((at, len(text)))
    out: list[tuple[int, int]] = []
    for start, end in blocks:
        lines: list[tuple[int, int]] = []
        line_start = start
        while line_start <= end:
            newline = text.find("\n", line_start, end)
            line_end = end if newline == -1 else newline
            lines.append((line_start, line_end))
            line_start = line_end + 1
        long_lines = any(e - s > _LONG_LINE for s, e in lines[:-1])
        for s, e in lines if long_lines else [(start, end)]:
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if s < e:
                out.append((s, e))
    return out


def _abbreviation(text: str, dot: int) -> bool:
    """Whether the full stop at ``dot`` ends an abbreviation ("Mr.", "U.S.", "J.")."""
    start = dot
    while start > 0 and dot - start < 12 and (text[start - 1].isalpha() or text[start - 1] == "."):
        start -= 1
    word = text[start:dot]
    if not word:
        return False
    if "." in word or (len(word) == 1 and word.isupper()):
        return True
    return word.lower() in _ABBREVIATIONS


def _sentences(masked: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans of the paragraph ``masked[start:end]`` (quotations already blanked)."""
    out: list[tuple[int, int]] = []
    sentence_start = start
    for match in _SENTENCE_END.finditer(masked, start, end):
        following = match.end()
        while following < end and masked[following].isspace():
            following += 1
        if following >= end:
            break
        if masked[following].islower():
            continue
        if match.group() == "." and _abbreviation(masked, match.start()):
            continue
        out.append((sentence_start, match.end()))
        sentence_start = following
    out.append((sentence_start, end))
    return out


# --- signals ----------------------------------------------------------------------------------


def _token_keys(token: str) -> frozenset[str]:
    """The keys a lower-cased word satisfies: itself, and its beginnings of four letters or more."""
    keys = _TOKEN_KEYS.get(token)
    if keys is None:
        longest = min(len(token), _LONGEST_KEY + 1)
        found = {token[:n] for n in range(4, longest) if token[:n] in _ALL_KEYS}
        if token in _ALL_KEYS:
            found.add(token)
        keys = frozenset(found)
        if len(_TOKEN_KEYS) < _TOKEN_CACHE:
            _TOKEN_KEYS[token] = keys
    return keys


def _paragraph_keys(lowered: str, start: int, end: int) -> set[str]:
    keys: set[str] = set()
    cached = _TOKEN_KEYS.get
    for token in set(_TOKEN.findall(lowered, start, end)):
        found = cached(token)
        if found is None:
            found = _token_keys(token)
        if found:
            keys |= found
    keys.update(s for s in _SYMBOL_KEYS if lowered.find(s, start, end) >= 0)
    return keys


def _candidates(keys: set[str]) -> list[_Pass]:
    """The passes whose needs ``keys`` all meet, in their order."""
    indexes: set[int] = set()
    for key in keys:
        indexes.update(_PASSES_BY_KEY.get(key, []))
    return [
        entry
        for entry in (_POINTED[i] for i in sorted(indexes))
        if not any(need.isdisjoint(keys) for need in entry.needs[1:])
    ]


def _hits(masked: str, lowered: str, start: int, end: int) -> list[_Hit]:
    """Every addressee, role, frame and meta match in the paragraph ``[start, end)``, at the first
    letter or digit of the match. The text starts with a line break, before any paragraph."""
    keys = _paragraph_keys(lowered, start, end)
    if not keys:
        return []
    # Start at the line break before the paragraph: clause-start patterns consume it.
    window = start
    while window > 0 and lowered[window - 1] in " \t\r\f\v":
        window -= 1
    window = max(window - 1, 0)
    found: list[_Hit] = []
    for entry in _candidates(keys):
        for match in entry.pattern.finditer(masked if entry.as_written else lowered, window, end):
            at = match.start()
            if lowered[at].isalnum() and lowered[at - 1].isalnum():
                continue  # inside a word
            if entry.before is not None:
                opening = entry.before.search(lowered, max(window, at - _BEFORE_REACH), at)
                if opening is None:
                    continue
                at = opening.start()
            while at < match.end() - 1 and not lowered[at].isalnum():
                at += 1
            found.append((at, match.end(), entry.signal, entry.strength))
    return sorted(found)


def _clauses(sentence: str) -> list[str]:
    pieces: list[str] = []
    at = 0
    for match in _CLAUSE_BREAK.finditer(sentence):
        pieces.append(sentence[at : match.start()])
        at = match.end()
    pieces.append(sentence[at:])
    return pieces


def _imperative(clause: str) -> bool:
    """Whether a lower-cased clause opens with an order: "report that", "do not mention"."""
    lead = _CLAUSE_LEAD.match(clause)
    at = lead.end() if lead else 0
    negation = _NEGATION.match(clause, at)
    if negation:
        at = negation.end()
    word = _WORD.match(clause, at)
    if word is None:
        return False
    verb, rest = word.group(), clause[word.end() :]
    if verb in _UNAMBIGUOUS_VERBS:
        return True
    if verb not in _AMBIGUOUS_VERBS:
        return False
    if _OBJECT_START.match(rest):
        return True
    return verb in _AS_VERBS and _AS_OBJECT.match(rest) is not None


def _directive(sentence: str) -> int:
    """2 for an order, 1 for politeness alone, 0 otherwise (a lower-cased sentence)."""
    if _REPORTED.search(sentence.rstrip()):
        return 0
    if (
        _found(_DIRECTIVE, sentence)
        or _machine_ordered(sentence)
        or any(_imperative(c) for c in _clauses(sentence))
    ):
        return 2
    return 1 if _found(_POLITE, sentence) else 0


def _machine_ordered(sentence: str) -> bool:
    """ "AI systems must report that ...": an order given to a machine in the third person."""
    for match in _ORDER.finditer(sentence):
        if _MACHINE_BEFORE.search(sentence, max(0, match.start() - _BEFORE_REACH), match.start()):
            return True
    return False


def _second_person(sentence: str, within: Sequence[tuple[int, int]] = ()) -> bool:
    """Whether a lower-cased sentence says "you" outside the spans ``within`` (the phrases of its
    meta references: "your summary" is one signal, not two) and is not closed by its speaker."""
    if _REPORTED.search(sentence.rstrip()):
        return False
    for pattern in _SECOND_PERSON:
        for match in pattern.finditer(sentence):
            at = match.start()
            inside_word = at > 0 and sentence[at - 1].isalnum()
            if not inside_word and not any(s <= at < e for s, e in within):
                return True
    return False


def _opens_with_order(sentence: str) -> bool:
    """Whether a lower-cased sentence is itself an imperative: "Stop.", "Ignore the above."."""
    first = _clauses(sentence)[0]
    if _imperative(first) or _POLITE_OPENING.match(first) is not None:
        return True
    words = _WORD.findall(first)
    return len(words) == 1 and (words[0] in _AMBIGUOUS_VERBS or words[0] in _CALLS)


def _signals(hits: Iterable[_Hit], sentence: str, offset: int) -> _Signals:
    """The signals of one lower-cased sentence starting at ``offset``, given the pattern hits
    that fall in it."""
    found = _Signals()
    meta: list[tuple[int, int]] = []
    for start, end, signal, strength in hits:
        setattr(found, signal, max(getattr(found, signal), strength))
        if signal == "meta":
            meta.append((start - offset, end - offset))
    if found.pointed:
        found.you = _second_person(sentence, meta)
        if not found.addressed:  # the order may decide; spare looking for one otherwise
            found.directive = _directive(sentence)
    return found


# --- passages ---------------------------------------------------------------------------------


def _flagged_sentence(
    lowered: str, sentences: Sequence[tuple[int, int]], hits: Sequence[_Hit]
) -> int | None:
    """Index of the sentence of a paragraph where a passage addressed to a model starts."""
    starts = [s for s, _ in sentences]
    own: list[list[_Hit]] = [[] for _ in sentences]
    for hit in hits:
        own[max(0, bisect_right(starts, hit[0]) - 1)].append(hit)
    judged = [_signals(h, lowered[s:e], s) for h, (s, e) in zip(own, sentences, strict=True)]
    for index, signals in enumerate(judged):
        if signals.addressed:
            return index
    if (
        len(sentences) > _SHORT_PARAGRAPH_SENTENCES
        or sentences[-1][1] - sentences[0][0] > _SHORT_PARAGRAPH_CHARS
    ):
        return None
    # A short paragraph as a whole: a label in one sentence, the order in the next.
    for index, (start, end) in enumerate(sentences):
        if not judged[index].pointed:
            judged[index] = _Signals(
                directive=_directive(lowered[start:end]),
                you=_second_person(lowered[start:end]),
            )
    whole = _Signals()
    for signals in judged:
        whole = whole.union(signals)
    if (whole.addressee or whole.role or whole.frame) and whole.addressed:
        return next(i for i, s in enumerate(judged) if s.pointed or s.directive >= 2)
    return None


def _heading_only(text: str, start: int, end: int) -> bool:
    """A flagged passage with no payload of its own: "[SYSTEM]", "Attention AI models:", or
    one pointing at what follows."""
    passage = text[start:end].rstrip()
    words = len(passage.split())
    return (
        (passage.endswith((":", "—", "–", "-")) and words <= _HEADING_LABEL_WORDS)
        or (words <= _HEADING_WORDS and not _opens_with_order(passage.lower()))
        or _FORWARD.search(passage.lower()) is not None
    )


def _merged(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _passages(original: str) -> list[tuple[int, int]]:
    # A line break before the text: every clause, the first too, then follows a character.
    text = "\n" + original
    paragraphs = _paragraphs(text)
    masked = _masked(text, paragraphs)
    lowered = _lower(masked)
    starts = [s for s, _ in paragraphs]
    block_ends: list[int] | None = None  # where "END ..." markers stand, found when first needed
    spans: list[tuple[int, int]] = []
    for number, (start, end) in enumerate(paragraphs):
        own = _hits(masked, lowered, start, end)
        if not own:
            continue
        sentences = _sentences(masked, start, end)
        first = _flagged_sentence(lowered, sentences, own)
        if first is None:
            continue
        while first > 0 and _opens_with_order(lowered[slice(*sentences[first - 1])]):
            first -= 1
        span_start, span_end = sentences[first][0], end
        begin = _BLOCK_BEGIN.search(lowered, span_start, span_end)
        if begin:
            if block_ends is None:
                block_ends = [m.end() for m in _BLOCK_END.finditer(lowered)]
            after = bisect_right(block_ends, begin.end())
            if after < len(block_ends) and block_ends[after] <= begin.end() + _BLOCK_REACH:
                closing = bisect_right(starts, block_ends[after]) - 1
                span_end = max(span_end, paragraphs[closing][1])
        if (
            span_end == end
            and number + 1 < len(paragraphs)
            and _heading_only(text, span_start, end)
        ):
            span_end = paragraphs[number + 1][1]
        spans.append((span_start - 1, span_end - 1))
    return _merged(spans)


@lru_cache(maxsize=64)
def instruction_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Passages of ``text`` addressed to a model rather than to its readers, as sorted,
    non-overlapping ``(start, end)`` character spans of ``text``: from the flagged sentence (or
    an imperative right before it) to the end of its paragraph."""
    return tuple(_passages(text))
