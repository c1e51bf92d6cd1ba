"""Tests for the chrome rules and the learned per-source chrome helpers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.process.clean.chrome import (
    candidate_lines,
    cut_tail_block,
    drop_teaser_blocks,
    fingerprint,
    is_chrome_line,
    is_meta_line,
    remove_learned,
    strip_chrome,
)

BODY = (
    "The council met on Thursday and approved the budget after a long debate about the cost of "
    "repairing the old bridge, which has been closed for three winters, and about the ferry line "
    "that is meant to replace it."
)


class TestIsChromeLine:
    @pytest.mark.parametrize(
        "line",
        [
            "© AFP 2015",
            "Copyright 2020 Example Media",
            "All Rights Reserved",
            "Newsmax TV and Newsmax World are trademarks of Newsmax Media, Inc.",
            "1Like our page",
            "Follow us on Twitter",
            "Share this article",
            "Sign up for our daily newsletter to get updates",
            "Leave a comment",
            "12 Comments",
            "Advertisement",
            "Reporting by Jane Doe; Editing by John Roe",
            "Read more: Why bridges fail",
            "Related",
            "Most popular",
            "Follow us on Facebook, Twitter and Instagram for more",
            "Photo: Jane Doe / AP",
        ],
        ids=[
            "copyright-sign",
            "copyright-word",
            "rights",
            "trademark",
            "like-page",
            "follow",
            "share",
            "newsletter",
            "comment",
            "comment-count",
            "advert",
            "signoff",
            "read-more",
            "related",
            "popular",
            "social-networks",
            "photo-credit",
        ],
    )
    def test_chrome(self, line):
        """Credit, social, newsletter, comment and related-links lines are chrome."""
        assert is_chrome_line(line)

    @pytest.mark.parametrize(
        "line",
        [
            BODY,
            "She said all rights reserved by the treaty had lapsed, according to the lawyers who read it.",
            "Shares of the company rose 5 percent.",
            "Twitter and Facebook were both fined by the regulator on Monday.",
            "",
        ],
        ids=["long-body", "quoted-rights-long", "share-word", "networks-as-news", "empty"],
    )
    def test_not_chrome(self, line):
        """Body sentences are not chrome, even when they use chrome words."""
        assert not is_chrome_line(line)

    @pytest.mark.parametrize(
        ("line", "expected"),
        [
            ("January 13, 2020 at 08:45 AM | categories: Python | View Comments", True),
            ("24. März 2004, 19:49 | Genesis", True),
            ("Apples | Pears | Plums", False),
        ],
        ids=["post-meta", "date-author", "no-date"],
    )
    def test_meta_line(self, line, expected):
        """Bar-separated rows holding a date and labels are meta lines."""
        assert expected == is_meta_line(line)

    # One line per rule that may match away from a line's start, none at the start.
    ANYWHERE = (
        "Example Media Ltd. All rights reserved.",
        "Ledger is a registered trademark of Example Media",
        "Our daily newsletter: sign up to get the news first",
        "Please sign up for our free newsletter",
        "Get it all: free sign up",
        "Sie müssen eingeloggt sein um einen Kommentar zu schreiben",
        "If you like this, consider supporting our journalism",
        "Have a view? Submit a letter to the editor",
        "Want more? Sign up here",
        "When you buy through links, we may earn a commission",
        "Dieser Text ist urheberrechtlich geschützt",
        "An dieser Stelle finden Sie externe Inhalte, die nicht verfügbar sind",
        "Mit Ihrer Zustimmung wird der externe Inhalt (Video) geladen und anzeigen",
        "Already here? To read the full story, subscribe now",
        "Never miss the latest news by signing up to our newsletter today!",
        "Lust auf mehr? Melde dich hier für unseren Newsletter an!",
        "Have a view? Submit your letter to the editor via this form.",
        "For the latest stories download the Harbour Gazette app",
        "Our news on the go: apps for iOS and Android",
        "¿Ya sabías que en Gazette.com tenemos canal de Telegram? Únete aquí.",
        "Tú también puedes hacer periodismo incómodo. Cancela cuando quieras.",
        "Die folgenden Angebote sind Affiliate-Links.",
        "Dieser Beitrag enthält Werbung für eine Marke.",
        "Hinweis: Wir verwenden Cookies, um unser Angebot zu verbessern.",
    )

    @pytest.mark.parametrize("line", ANYWHERE, ids=range(len(ANYWHERE)))
    def test_rules_away_from_the_start(self, line):
        """The words that let a line be searched for these rules cover every one of them."""
        assert is_chrome_line(line)


class TestPromotionsAndContacts:
    @pytest.mark.parametrize(
        "line",
        [
            "Harbour Gazette Newsletter",
            "Sign up to get the best content of the week, as picked by the editors.",
            "Anzeige, enthält Affiliate Links",
            "*Werbung. Dieser Beitrag enthält Werbung für eine Marke.",
            "ANZEIGE - Heute mal ausgehen? Wie wäre es mit:",
            "Keine Kommentare (Kommentare erscheinen erst nach unserer Freigabe)",
            "Verraten Sie gerne in den Kommentaren: Was bedeutet der Preis für Sie?",
            "Ten tekst przeczytasz w mniej niż minutę",
            "Telefon: +49 - (40) - 300 30 - 1141",
            "Pressekontakt:",
            "Weitere Informationen:",
            "Quellenangaben:",
        ],
        ids=[
            "newsletter-heading",
            "sign-up-to-get",
            "affiliate-label",
            "werbung-label",
            "anzeige-label",
            "no-comments",
            "comment-prompt",
            "reading-time-pl",
            "phone",
            "press-contact",
            "more-information",
            "sources",
        ],
    )
    def test_chrome(self, line):
        """Newsletter, advertising and comment prompts and the contact block's lines are chrome."""
        assert is_chrome_line(line)

    @pytest.mark.parametrize(
        "line",
        [
            "© 2022, Harbour Gazette. This article is the copyrighted property of Harbour Gazette. Written"
            " permission must be obtained before reprint in online or print media. Reprinting and reposting"
            " without permission is strictly prohibited.",
            "This post contains references to products from one or more of our advertisers. We may receive"
            " compensation when you click on links to those products. Terms apply to the offers listed on"
            " this page. For an explanation of our Advertising Policy, visit this page.",
            "Follow The Gazette on Twitter and Instagram @HarbourGazette and on Facebook @GazetteHarbour."
            " Send us a message on WhatsApp at 1-876-499-0169 or email us at online@gazette.example with your"
            " story tips and photos.",
        ],
        ids=["reprint-notice", "affiliate-disclosure", "follow-three-networks"],
    )
    def test_long_boilerplate(self, line):
        """Past the short-line limit only phrases no article sentence uses make a line chrome."""
        assert len(line) > 200
        assert is_chrome_line(line)

    @pytest.mark.parametrize(
        ("line", "chrome"),
        [
            ("［有料会員限定］ この記事は会員限定です。電子版に登録すると続きをお読みいただけます。", True),
            ("Dieser Artikel ist nur für Abonnenten verfügbar.", True),
            ("Cet article est réservé aux abonnés.", True),
            ("Este contenido es exclusivo para suscriptores.", True),
            ("This article is for subscribers only.", True),
            ("Subscribers only", True),
            ("Members only: the new lounge opens on Friday and is open to every member of the club.", False),
        ],
        ids=["ja", "de", "fr", "es", "en", "en-label", "en-sentence"],
    )
    def test_paywall_placeholder(self, line, chrome):
        """ "For subscribers only", where the rest of the story would be, is chrome in any main language."""
        assert chrome == is_chrome_line(line)

    @pytest.mark.parametrize(
        ("line", "chrome"),
        [
            ("Wir verwenden Cookies, die unser Angebot nutzerfreundlicher und sicherer machen.", True),
            ("Nous utilisons des cookies pour améliorer l'offre que nous vous proposons.", True),
            ("This website uses cookies to ensure you get the best experience on our website.", True),
            (
                'Wir verwenden Cookies. Durch Bestätigen des Buttons "Alle zulassen und fortsetzen"'
                ' stimmst Du der Verwendung zu. Über den Button "Konfigurieren" kannst Du auswählen,'
                " welche Cookies Du zulassen möchtest. Weitere Informationen findest Du in unserer"
                " Datenschutzerklärung.",
                True,
            ),
            ("Do we use 'cookies'?", False),
            ("The regulator said the website uses cookies to track its readers across other sites.", False),
        ],
        ids=["de", "fr", "en", "de-long", "policy-question", "news-sentence"],
    )
    def test_cookie_banner(self, line, chrome):
        """A site saying it uses cookies is its banner; a question about them or news about them is not."""
        assert chrome == is_chrome_line(line)

    def test_long_sentence_naming_networks_is_body(self):
        """An article sentence about networks and their followers is not a "follow us" prompt."""
        line = (
            "Wer sich auf Instagram, YouTube, Tiktok oder Twitch umsieht, findet eine schier unendliche"
            " Fülle an Informationen. Etliche Influencer mit teils Hunderttausenden Followern geben dort"
            " Tipps zur Geldanlage, die nicht immer seriös sind."
        )

        assert not is_chrome_line(line)

    def test_sources_block_after_the_text_is_cut(self):
        """A press release's closing contact block goes with its heading; the text above stays."""
        paragraphs = [BODY, "Pressekontakt:", "Jane Doe", "Tel.: 0211 77900 363", "www.gazette.example"]

        assert [BODY] == strip_chrome(paragraphs)


class TestTeasersAndPlaceholders:
    @pytest.mark.parametrize(
        "line",
        [
            "Lea también: Impiden ingreso a Nicaragua a reportero y camarógrafo",
            "LE PUEDE INTERESAR: La ficha de Juan Orlando Hernández",
            "MIRA: Madre se acerca a conocer los motivos",
            "Leia também: Governo anuncia novo pacote",
            "Schon gelesen?",
            "Das Thema könnte dich auch interessieren:",
            "NOTAS RELACIONADAS",
            "Externer Inhalt nicht verfügbar. Bitte stimmen Sie der Nutzung zu, um ihn zu laden.",
            "External content not available: accept cookies to display it.",
            "Weitere Inhalte",
            "Sie sind aktuell nicht eingeloggt.",
            "To view the full story, please subscribe to The Haitian Times.",
            "Subscribe now to our eNATION edition for the full story.",
            "AFP / MARCO BERTORELLO",
            "Foto: Getty Images / Sean Gallup",
        ],
        ids=[
            "lea-tambien",
            "le-puede-interesar",
            "mira",
            "leia-tambem",
            "schon-gelesen",
            "koennte-interessieren",
            "notas-relacionadas",
            "externer-inhalt",
            "external-content",
            "weitere-inhalte",
            "nicht-eingeloggt",
            "paywall-subscribe",
            "edition-for-full-story",
            "agency-photo-credit",
            "getty-credit",
        ],
    )
    def test_chrome(self, line):
        """Teaser prompts, consent and paywall placeholders and photo credits are chrome."""
        assert is_chrome_line(line)

    @pytest.mark.parametrize(
        "line",
        [
            "Lea Müller, the mayor, said the ferry would run from May.",
            "Read more than 300 pages of the report, she told the council.",
            "The agency's consent was needed before the content could be shown to the board.",
            "AFP reported that the talks had failed after midnight.",
        ],
        ids=["name-lea", "read-more-in-sentence", "consent-sentence", "agency-sentence"],
    )
    def test_body_kept(self, line):
        """Sentences that merely contain such words are article text."""
        assert not is_chrome_line(line)

    def test_teaser_block_inside_the_body(self):
        """A related heading goes with the teaser headlines under it, up to the next sentence."""
        paragraphs = [BODY, "Related stories", "Bridge closed after storm", "Council elects new chair", BODY]

        assert [BODY, BODY] == drop_teaser_blocks(paragraphs)

    def test_read_more_does_not_cut_real_paragraphs(self):
        """Short real paragraphs after a `Read more` line stay: only teaser-like lines go."""
        quote = '"We will appeal the decision," said the ferry operator\'s lawyer on Friday.'
        paragraphs = [BODY, "Read more", quote, "The hearing is set for June."]

        assert [BODY, quote, "The hearing is set for June."] == strip_chrome(paragraphs)


class TestStripChrome:
    def test_footer_block(self):
        """A footer paragraph goes whole, its slogan line included."""
        paragraphs = [BODY, "America's News Page\n© Newsmax Media, Inc.\nAll Rights Reserved"]

        assert [BODY] == strip_chrome(paragraphs)

    def test_related_block_cut(self):
        """A trailing `Related` heading goes with the teasers after it."""
        paragraphs = [BODY, "Related", "Bridge closed after storm", "Council elects new chair"]

        assert [BODY] == cut_tail_block(paragraphs)

    @pytest.mark.parametrize(
        "heading",
        [
            "เรื่องที่เกี่ยวข้อง",
            "関連記事",
            "相关新闻",
            "관련기사",
            "Читайте также",
            "Baca juga",
            "Saiba mais",
            "Lire aussi",
        ],
        ids=["th", "ja", "zh", "ko", "ru", "id", "pt", "fr"],
    )
    def test_related_block_cut_in_other_languages(self, heading):
        """The related-stories heading closes the story in the languages news is written in."""
        paragraphs = [BODY, heading, "Bridge closed after storm", "Council elects new chair"]

        assert [BODY] == cut_tail_block(paragraphs)

    @pytest.mark.parametrize("heading", ["Temas", "Themen", "Tags:", "Keywords", "Schlagwörter"])
    def test_tag_list_heading_closing_the_text_goes(self, heading):
        """The heading of the story's tag links, with the short tags under it or left alone, is no text."""
        assert [BODY] == strip_chrome([BODY, heading])
        assert [BODY] == strip_chrome([BODY, heading, "Paritarias", "Industria alimenticia"])

    def test_tag_word_in_a_sentence_kept(self):
        """A line that only starts with such a word is article text."""
        line = "Themen wie Klimaschutz und Verkehr bestimmten den Wahlkampf."

        assert [BODY, line] == strip_chrome([BODY, line])

    def test_related_heading_inside_body_kept(self):
        """A heading followed by long paragraphs is part of the article."""
        paragraphs = ["Intro.", "See also", BODY]

        assert paragraphs == cut_tail_block(paragraphs)

    @given(st.lists(st.text(), max_size=6))
    def test_idempotent(self, paragraphs):
        """Stripping twice gives what stripping once gave."""
        once = strip_chrome(paragraphs)

        assert once == strip_chrome(once)


class TestCaptionsSourcesAndPitches:
    @pytest.mark.parametrize(
        "line",
        [
            "Marco Odermatt, Ski-Star aus der Schweiz. © AFP / MARCO BERTORELLO",
            "Logo des Awards von Bankmagazin und Versicherungsmagazin | © Springer",
            "Cristina Kirchner y Alberto Fernández, en el Congreso (Foto: Natacha Pisarenko/Pool).",
            "Quelle: Deutscher Jagdverband (DJV), 02. Februar 2022, Berlin",
            "Source: CDC, Chicago Department of Public Health",
            "Inhaltsverzeichnis",
            "Table of contents",
            ">> Wegen Corona: Sängerin muss ihr Lokal auf Mallorca schließen <<",
            "(Alle Angaben ohne Gewähr)",
            "Sie möchten wöchentliche Produktvorstellungen? Schauen Sie mal in unseren Musiknewsletter!",
            "Die aktuelle Ausgabe der L-MAG jetzt an jedem Bahnhofskiosk, im Abo, als e-Paper erhältlich.",
            "Jetzt Mitglied werden und erhalten Sie exklusive Angebote!",
            "Das Blatt jetzt auch digital! Einfach hier klicken und für das digitale Blatt registrieren!",
            "| We need your help Help us continue to spread the magic of words to readers Donate |",
        ],
        ids=[
            "caption-copyright-credit",
            "caption-bar-credit",
            "caption-photo-credit",
            "source-de",
            "source-en",
            "toc-de",
            "toc-en",
            "arrow-teaser",
            "disclaimer",
            "own-newsletter",
            "current-issue",
            "exclusive-offers",
            "click-to-register",
            "donate",
        ],
    )
    def test_chrome(self, line):
        """Caption credits, source lines, a contents heading, arrow teasers and the publisher's pitches go."""
        assert is_chrome_line(line)

    @pytest.mark.parametrize(
        "line",
        [
            "She wrote © on every page of the manuscript, the curator said.",
            "He showed the court a picture (photo: exhibit 4) and sat down again.",
            "Sources said the talks had stalled over the price of the ferry line.",
            "Contents of the report were leaked to the press on Monday.",
            "»Wir schaffen das«",
            "Die Angaben ohne Gewähr zu machen, sei unzulässig, sagte der Richter.",
            "Our newsletter editor said the figures were up for the third year.",
            "The latest issue facing the council is the cost of the ferry.",
            "Clients receive exclusive rights to the land under the deal.",
            "Users who click here and there rarely register complaints, the study found.",
            '"We need your help," the Red Cross said, urging people to donate blood.',
            "Prime members get exclusive deals on thousands of items until Wednesday.",
        ],
        ids=[
            "copyright-sign-in-sentence",
            "photo-mid-sentence",
            "sources-said",
            "contents-of",
            "german-quote",
            "disclaimer-words-in-sentence",
            "newsletter-editor",
            "latest-issue",
            "exclusive-rights",
            "click-here-and-there",
            "donate-blood",
            "members-get-exclusive-deals",
        ],
    )
    def test_sentence_kept(self, line):
        """Real sentences using the same words are article text."""
        assert not is_chrome_line(line)


class TestLearned:
    def test_fingerprint_normalises(self):
        """Case, spacing and digits do not change the fingerprint."""
        assert fingerprint("Subscribe to the  Gazette 2020") == fingerprint("subscribe to the gazette 2021")

    def test_fingerprint_shape(self):
        """A fingerprint is 16 hex digits."""
        value = fingerprint("Brought to you by the Gazette")

        assert 16 == len(value)
        assert all(c in "0123456789abcdef" for c in value)

    def test_fingerprint_differs(self):
        """Different lines give different fingerprints."""
        assert fingerprint("Brought to you by the Gazette") != fingerprint("Brought to you by the Herald")

    def test_candidates_short_lines_once(self):
        """Candidates are the short lines, each once, long paragraphs left out."""
        long_line = "x" * 400
        text = f"Gazette footer\n\n{long_line}\n\nGazette footer\n\nPage 2"

        assert [fingerprint("Gazette footer"), fingerprint("Page 2")] == candidate_lines(text)

    def test_repeated_footer_removed(self):
        """A footer seen in every article of a source is learned and removed from the next one."""
        footer = "Brought to you by the Gazette team"
        articles = [f"Story number {i} about the town.\n\n{footer}" for i in range(5)]
        counts: dict[str, int] = {}
        for article in articles:
            for fp in candidate_lines(article):
                counts[fp] = counts.get(fp, 0) + 1
        learned = frozenset(fp for fp, n in counts.items() if n >= 5)

        assert [BODY] == remove_learned([BODY, footer], learned)

    def test_nothing_learned(self):
        """With nothing learned, paragraphs are kept."""
        assert [BODY, "Footer"] == remove_learned([BODY, "Footer"], frozenset())
