"""Load demo data: users, requests and engagements in every state, with their room events.

Everything goes through the services (the same write paths as the API), so every room
has a correct, gapless event log. Idempotent: when the demo users already exist, the
command only prints the logins.

    python manage.py seed_demo [--password PASSWORD]
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import register_user
from chat import services as chat
from config.errors import ServiceError
from deals import services as deals
from deals.models import Engagement, Project

DEFAULT_PASSWORD = "demo-pass-2026"
ADMIN_USERNAME = "admin"


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    display_name: str
    timezone: str
    skills: tuple[str, ...] = ()
    bio: str = ""


CLIENTS = (
    DemoUser("lucia", User.Role.CLIENT, "Lucía Fernández", "Europe/Madrid"),
    DemoUser("marcus", User.Role.CLIENT, "Marcus Lee", "America/New_York"),
)
ADVISORS = (
    DemoUser(
        "sofia", User.Role.ADVISOR, "Sofía Restrepo", "America/Bogota",
        ("Strategy", "Pricing", "Market Research", "Go-to-Market"),
        "Strategy and pricing advisor based in Bogotá. Twelve years helping consumer brands "
        "and SaaS companies in Latin America and Spain decide what to sell, to whom and at "
        "what price. I work in short, focused sprints and always leave you with a plan your "
        "team can run without me.",
    ),
    DemoUser(
        "javier", User.Role.ADVISOR, "Javier Ortega", "Europe/Madrid",
        ("Finance", "Financial Modeling", "Fundraising", "Legal"),
        "Fractional CFO and former corporate lawyer in Madrid. I build financial models "
        "investors and banks trust, prepare data rooms and review term sheets and commercial "
        "contracts. Happy to work in English or Spanish.",
    ),
    DemoUser(
        "dana", User.Role.ADVISOR, "Dana Brooks", "America/New_York",
        ("Marketing", "Data Analytics", "Growth", "SQL"),
        "Marketing analytics lead turned independent consultant in New York. I set up the "
        "dashboards, attribution and retention analyses that tell you which channels "
        "actually pay back, and I explain them without jargon.",
    ),
)
DEMO_USERS = CLIENTS + ADVISORS


def _money(value: str) -> Decimal:
    return Decimal(value)


class Command(BaseCommand):
    help = (
        "Load demo users, requests and engagements in every state through the services. "
        "Does nothing but print the logins when the demo users already exist."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            default=DEFAULT_PASSWORD,
            help=f"The password every demo user shares (default: {DEFAULT_PASSWORD}).",
        )

    def handle(self, *args: Any, password: str, **options: Any) -> None:
        usernames = [user.username for user in DEMO_USERS]
        existing = User.objects.filter(username__in=usernames)
        if existing.exists():
            self.stdout.write("Demo data is already loaded; nothing changed.")
            sample = existing.order_by("pk").first()
            same = sample is not None and sample.check_password(password)
            self._print_logins(password if same else None)
            return
        try:
            with transaction.atomic():
                _Seeder(password).run()
        except ServiceError as exc:  # a demo step the services refused: load nothing
            raise CommandError(f"Could not load the demo data: {exc.detail}") from exc
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self._print_logins(password)

    def _print_logins(self, password: str | None) -> None:
        rows = [(ADMIN_USERNAME, "staff", "Site admin (settles disputes)")]
        rows += [(user.username, str(user.role), user.display_name) for user in DEMO_USERS]
        self.stdout.write("Demo logins:")
        for username, role, name in rows:
            self.stdout.write(f"  {username:<8} {role:<8} {name}")
        if password is None:
            self.stdout.write(
                "Password: the one given when the demo data was first loaded "
                f"(default {DEFAULT_PASSWORD})."
            )
        else:
            self.stdout.write(f"Password (all demo users): {password}")


class _Seeder:
    """The demo story, written as the users would play it."""

    def __init__(self, password: str) -> None:
        self.password = password
        self.client_ids = itertools.count(1)
        self.today = timezone.localdate()

    # --- helpers ---------------------------------------------------------------------------

    def user(self, spec: DemoUser) -> User:
        return register_user(
            username=spec.username,
            password=self.password,
            email=f"{spec.username}@example.com",
            role=spec.role,
            display_name=spec.display_name,
            timezone=spec.timezone,
            skills=spec.skills,
            bio=spec.bio,
        )

    def admin(self) -> User:
        admin = User.objects.filter(username=ADMIN_USERNAME).first()
        if admin is None:
            return User.objects.create_superuser(
                username=ADMIN_USERNAME,
                email="admin@example.com",
                password=self.password,
                display_name="Site admin",
                timezone="UTC",
            )
        if not admin.is_staff:
            raise CommandError(f"A user {ADMIN_USERNAME!r} exists and is not staff.")
        return admin

    def project(self, client: User, title: str, description: str, skills: tuple[str, ...],
                budget: tuple[str, str], currency: str, due_in_days: int) -> Project:
        return deals.post_project(
            client=client,
            title=title,
            description=description,
            skills=skills,
            budget_min=_money(budget[0]),
            budget_max=_money(budget[1]),
            currency=currency,
            due_date=self.today + timedelta(days=due_in_days),
        )

    def propose(self, project: Project, advisor: User, fee: str, currency: str, days: int,
                revisions: int, statement: str) -> Engagement:
        return deals.submit_proposal(
            project_id=project.pk,
            advisor=advisor,
            fee_amount=_money(fee),
            fee_currency=currency,
            statement=statement,
            estimated_days=days,
            included_revisions=revisions,
        )

    def say(self, engagement: Engagement, sender: User, body: str) -> None:
        chat.send_message(room_id=engagement.pk, sender=sender, body=body,
                          client_id=f"demo-{next(self.client_ids)}")

    def hire(self, engagement: Engagement, client: User) -> Engagement:
        engagement.refresh_from_db()
        return deals.hire(engagement_id=engagement.pk, by=client,
                          version=engagement.current_proposal.version)

    # --- the story ---------------------------------------------------------------------------

    def run(self) -> None:
        lucia, marcus = (self.user(spec) for spec in CLIENTS)
        sofia, javier, dana = (self.user(spec) for spec in ADVISORS)
        admin = self.admin()

        self.proposed_and_withdrawn(lucia, sofia, dana)
        self.active_and_auto_declined(marcus, javier, sofia)
        self.delivered(lucia, dana)
        self.completed(marcus, sofia)
        self.disputed(lucia, javier)
        self.cancelled(marcus, dana, admin)
        self.declined(lucia, javier)
        self.cancelled_request(marcus, sofia, dana)
        self.open_requests(lucia, marcus)

    def proposed_and_withdrawn(self, lucia: User, sofia: User, dana: User) -> None:
        """Proposed (revised to version 2, with pre-hire messages) and withdrawn."""
        project = self.project(
            lucia,
            "Pricing for our coffee subscription",
            "We roast specialty coffee in Madrid and sell a monthly subscription (two bags, "
            "free shipping) at 24 EUR. Churn is creeping up and we suspect our tiers are "
            "wrong. We'd like a pricing and packaging review: competitor benchmark, a short "
            "customer survey and a recommendation we can test before summer.",
            ("Pricing", "Strategy"), ("2000", "4000"), "EUR", 45,
        )
        proposal = self.propose(
            project, sofia, "2800.00", "EUR", 12, 1,
            "Hi Lucía! I'd start with a benchmark of the ten subscriptions your customers "
            "compare you with, then interview five of your recent churners. You'd get two "
            "or three packaging options with prices and a simple test plan for your shop.",
        )
        self.say(proposal, lucia, "Hi Sofía, thanks for the quick proposal! Would the "
                 "benchmark include the big supermarket brands too, or only specialty "
                 "roasters?")
        self.say(proposal, sofia, "Good question. I'd include the two supermarket "
                 "subscriptions your customers mention most, as price anchors, and eight "
                 "specialty roasters. Do you have exit-survey answers from people who "
                 "cancelled?")
        self.say(proposal, lucia, "We have about 300 answers from the cancellation form. "
                 "I can share the export. Could you also run a small survey of active "
                 "subscribers?")
        deals.revise_proposal(
            engagement_id=proposal.pk, by=sofia,
            fee_amount=_money("3200.00"), estimated_days=14, included_revisions=2,
            statement="Updated after our chat: benchmark of ten subscriptions (including two "
            "supermarket brands as anchors), analysis of your 300 cancellation answers and a "
            "short survey of active subscribers. You'd get two or three packaging options "
            "with prices, a test plan, and two rounds of revisions.",
        )
        self.say(proposal, sofia, "I've sent version 2 with the subscriber survey and a "
                 "second revision round included. Happy to jump on a call this week if "
                 "that helps, I'm on Bogotá time, six or seven hours behind you.")
        self.say(proposal, lucia, "Perfect, that looks much closer to what we need. Let me "
                 "talk to my co-founder and I'll get back to you by Friday.")

        other = self.propose(
            project, dana, "1900.00", "EUR", 10, 1,
            "I'd look at the pricing question through your acquisition and retention data: "
            "which channels bring subscribers who stay, and what they were paying.",
        )
        self.say(other, lucia, "Thanks Dana! How much of this would be pricing work versus "
                 "marketing analytics?")
        self.say(other, dana, "Honestly, mostly analytics. Reading your brief again, you "
                 "need a pricing specialist first. I'll step back so I don't waste your "
                 "time. Feel free to reach out for the retention side later!")
        deals.withdraw_proposal(engagement_id=other.pk, by=dana)

    def active_and_auto_declined(self, marcus: User, javier: User, sofia: User) -> None:
        """Active (hired), and the other proposal declined automatically by the hire."""
        project = self.project(
            marcus,
            "Three-statement financial model for our seed round",
            "Fleetwise is a B2B SaaS for fleet maintenance (ARR 600k USD, growing 8% a "
            "month). We are raising a 3M USD seed round in the autumn and need an "
            "investor-ready model: P&L, balance sheet and cash flow, with hiring plan and "
            "scenarios.",
            ("Finance", "Financial Modeling", "Fundraising"), ("5000", "8000"), "USD", 30,
        )
        hired = self.propose(
            project, javier, "6500.00", "USD", 15, 2,
            "I've built seed and Series A models for a dozen SaaS companies. I'd start "
            "from your billing data, model cohorts rather than a single growth rate, and "
            "link the hiring plan to runway so you can answer any 'what if' in the room.",
        )
        declined = self.propose(
            project, sofia, "5200.00", "USD", 12, 1,
            "I'd pair a lean financial model with the growth story investors will test: "
            "market sizing, pricing assumptions and a clear use of funds.",
        )
        self.say(declined, marcus, "Thanks Sofía, the market-sizing angle is interesting. "
                 "We'll decide this week.")
        self.say(hired, marcus, "Javier, could the model handle monthly and annual plans "
                 "separately? About 40% of our customers prepay for the year.")
        self.say(hired, javier, "Yes, absolutely. Prepaid annual plans change the cash "
                 "picture a lot, so I'd model billings and revenue separately.")
        self.hire(hired, marcus)
        self.say(hired, marcus, "Welcome aboard! I'll send read-only access to Stripe and "
                 "our QuickBooks export today.")
        self.say(hired, javier, "Thanks Marcus, excited to start. Once I have the exports "
                 "I'll share a first skeleton of the model by Wednesday, then we can walk "
                 "through the assumptions together.")
        self.say(hired, marcus, "Sounds great. Mornings New York time work best for me.")

    def delivered(self, lucia: User, dana: User) -> None:
        """Delivered and under review: the 72-hour deadline is running."""
        project = self.project(
            lucia,
            "Marketing analytics dashboard for our online shop",
            "We run Shopify, Meta ads and a newsletter, and every Monday someone copies "
            "numbers into a spreadsheet. We'd love one dashboard with spend, new "
            "subscribers, CAC and 90-day retention by channel.",
            ("Marketing", "Data Analytics"), ("1500", "3000"), "EUR", 20,
        )
        engagement = self.propose(
            project, dana, "2400.00", "EUR", 8, 1,
            "I'll connect Shopify, Meta Ads and your newsletter tool to a free Looker Studio "
            "dashboard with spend, new subscribers, CAC and retention by channel, plus a "
            "30-minute walkthrough for your team.",
        )
        self.say(engagement, lucia, "Hi Dana! Does this work if our newsletter tool is "
                 "Mailchimp?")
        self.say(engagement, dana, "Yes, Mailchimp has a connector, no problem at all.")
        self.hire(engagement, lucia)
        self.say(engagement, dana, "Thanks for the access! The Meta connection is live; "
                 "Shopify and Mailchimp are next.")
        self.say(engagement, lucia, "Great, thank you for the update!")
        deals.deliver(
            engagement_id=engagement.pk, by=dana,
            note="The dashboard is ready: spend, new subscribers, CAC and 90-day retention "
            "by channel, refreshed daily. I've added a short guide on the first page. Let "
            "me know what you'd like changed!",
        )
        self.say(engagement, dana, "Lucía, I've delivered. Take your time to look around; "
                 "happy to do the walkthrough whenever suits you.")

    def completed(self, marcus: User, sofia: User) -> None:
        """Completed after one revision round, with both reviews posted."""
        project = self.project(
            marcus,
            "Go-to-market plan for Mexico and Colombia",
            "We have a handful of customers in Mexico who found us on their own. Before we "
            "hire a local sales team we want a go-to-market plan for Mexico and Colombia: "
            "segments, pricing in local currency, channels and a 12-month roadmap.",
            ("Strategy", "Market Research", "Go-to-Market"), ("6000", "10000"), "USD", 60,
        )
        engagement = self.propose(
            project, sofia, "8500.00", "USD", 21, 2,
            "I've launched B2B products in both markets. Plan: ten interviews with fleet "
            "managers in Mexico City, Monterrey and Bogotá, a sizing of the segments you "
            "can reach first, local pricing and a 12-month roadmap with hiring milestones.",
        )
        self.say(engagement, marcus, "Sofía, your experience in both markets is exactly "
                 "what we need. Can the interviews happen in the first two weeks?")
        self.say(engagement, sofia, "Yes, I already have a few contacts who'd be happy to "
                 "talk. I can start next Monday.")
        self.hire(engagement, marcus)
        self.say(engagement, sofia, "Interviews are booked: six in Mexico, four in "
                 "Colombia. I'll share notes as we go.")
        deals.deliver(
            engagement_id=engagement.pk, by=sofia,
            note="The go-to-market plan is ready: interview findings, segment sizing, "
            "pricing in MXN and COP, channel mix and the 12-month roadmap.",
        )
        deals.request_revision(
            engagement_id=engagement.pk, by=marcus,
            note="Really solid work, thank you! Could you add a budget for the first two "
            "hires and a rough payback estimate for each country?",
        )
        self.say(engagement, sofia, "Of course, good call. I'll add the hiring budget "
                 "and payback by Thursday.")
        deals.deliver(
            engagement_id=engagement.pk, by=sofia,
            note="Version 2: added the budget for the first two hires per country and a "
            "payback estimate (about 14 months in Mexico, 19 in Colombia).",
        )
        deals.approve(engagement_id=engagement.pk, by=marcus)
        self.say(engagement, marcus, "Approved! The board loved the roadmap. Thank you, "
                 "Sofía.")
        deals.post_review(
            engagement_id=engagement.pk, by=marcus, rating=5,
            comment="Sofía knows both markets inside out. Clear plan, great interviews and "
            "she turned our revision around in two days.",
        )
        deals.post_review(
            engagement_id=engagement.pk, by=sofia, rating=5,
            comment="Marcus was organised, responsive and gave precise feedback. A "
            "pleasure to work with.",
        )

    def disputed(self, lucia: User, javier: User) -> None:
        """Delivered, then rejected by the client: a dispute waiting for staff."""
        project = self.project(
            lucia,
            "13-week cash-flow forecast before a bank loan",
            "Our bank asked for a 13-week cash-flow forecast before approving a 60k EUR "
            "loan for a new roaster. It needs to reflect our Christmas peak and quarterly "
            "VAT payments.",
            ("Finance",), ("800", "1500"), "EUR", 14,
        )
        engagement = self.propose(
            project, javier, "1200.00", "EUR", 5, 0,
            "I'll build a 13-week forecast from your bank statements and sales history, in "
            "the format Spanish banks expect, with a one-page summary for the loan officer.",
        )
        self.hire(engagement, lucia)
        self.say(engagement, lucia, "Hi Javier, I've emailed you last year's bank statements "
                 "and our VAT calendar. The bank meeting is on the 20th.")
        self.say(engagement, javier, "Got them, thanks. You'll have the forecast well "
                 "before the 20th.")
        deals.deliver(
            engagement_id=engagement.pk, by=javier,
            note="The 13-week forecast is ready: weekly cash position, loan repayments and a "
            "one-page summary for the bank.",
        )
        deals.reject(
            engagement_id=engagement.pk, by=lucia,
            reason="The forecast uses flat weekly sales, so the Christmas peak is missing, "
            "and the VAT payments are in the wrong quarter. We can't take this to the bank.",
        )
        self.say(engagement, javier, "I'm sorry to hear that, Lucía. I used the averages "
                 "from the statements; I'm happy to fix the seasonality and VAT dates while "
                 "the team reviews this.")

    def cancelled(self, marcus: User, dana: User, admin: User) -> None:
        """Rejected delivery that staff resolved as cancelled (client refunded)."""
        project = self.project(
            marcus,
            "Churn analysis of our customer base",
            "We lose about 2% of customers a month and don't know why. We need an analysis "
            "of usage and support data to find the warning signs and the segments at risk.",
            ("Data Analytics", "SQL"), ("3000", "5000"), "USD", 25,
        )
        engagement = self.propose(
            project, dana, "4000.00", "USD", 10, 1,
            "I'll join your product usage, billing and support tickets in SQL, build a "
            "churn model you can rerun monthly and present the top five warning signs.",
        )
        self.say(engagement, marcus, "Sounds good, Dana. Our data is in Postgres and "
                 "Zendesk.")
        self.hire(engagement, marcus)
        deals.deliver(
            engagement_id=engagement.pk, by=dana,
            note="The churn analysis is done: a short deck with the warning signs and the SQL "
            "notebook to rerun it every month.",
        )
        deals.reject(
            engagement_id=engagement.pk, by=marcus,
            reason="The analysis only covers the last two months of data and the support "
            "tickets were never joined, which was the main point of the project.",
        )
        self.say(engagement, dana, "Marcus, you're right that the Zendesk export failed "
                 "on my side. I'm sorry, I should have flagged it before delivering.")
        deals.resolve_dispute(
            engagement_id=engagement.pk, by=admin, outcome=Engagement.State.CANCELLED,
            note="The delivery missed the agreed scope (support data). Cancelled and the "
            "client refunded, as both sides agreed.",
        )

    def declined(self, lucia: User, javier: User) -> None:
        """A proposal the client declined herself."""
        project = self.project(
            lucia,
            "Review of our wholesale contract template",
            "We're starting to sell to cafés and need someone to review our wholesale "
            "supply contract: payment terms, minimum orders and liability.",
            ("Legal",), ("500", "1200"), "EUR", 30,
        )
        engagement = self.propose(
            project, javier, "900.00", "EUR", 4, 1,
            "I'll review the contract and send a marked-up version with comments on payment "
            "terms, minimum orders, liability and termination under Spanish law.",
        )
        self.say(engagement, lucia, "Thank you, Javier. Just checking: would you also "
                 "draft the Portuguese version for our Lisbon clients?")
        self.say(engagement, javier, "I'm afraid not; I only practise Spanish law. I could "
                 "recommend a colleague in Lisbon.")
        deals.decline_proposal(
            engagement_id=engagement.pk, by=lucia,
            reason="We need Spain and Portugal covered by the same firm, so we'll look for "
            "someone who can do both. Thanks a lot for your time!",
        )

    def cancelled_request(self, marcus: User, sofia: User, dana: User) -> None:
        """A request the client cancelled: its pending proposals are declined."""
        project = self.project(
            marcus,
            "Brand positioning workshop for the leadership team",
            "A two-day workshop to sharpen our positioning and messaging before we rebuild "
            "the website.",
            ("Marketing", "Strategy"), ("4000", "7000"), "USD", 40,
        )
        first = self.propose(
            project, sofia, "5500.00", "USD", 6, 1,
            "Two half-day sessions with your leadership team, customer interview "
            "highlights beforehand, and a positioning one-pager afterwards.",
        )
        second = self.propose(
            project, dana, "4800.00", "USD", 5, 1,
            "A data-informed workshop: I'll bring what your best customers search, click "
            "and say, and we'll build the messaging around it.",
        )
        self.say(first, marcus, "Thanks Sofía. Heads up: the website project may move to "
                 "next year, so we might pause this.")
        self.say(second, marcus, "Thanks Dana, lovely idea. We're reviewing the budget "
                 "this week and will let you know.")
        deals.cancel_project(project_id=project.pk, by=marcus)

    def open_requests(self, lucia: User, marcus: User) -> None:
        """Open requests nobody has answered yet, matching the advisors' skills."""
        self.project(
            lucia,
            "Which metrics should a small D2C brand track?",
            "We're drowning in reports. We'd like a short session to agree on the five or "
            "six numbers we look at every week, and how to calculate them.",
            ("Data Analytics", "Marketing"), ("400", "900"), "EUR", 21,
        )
        self.project(
            marcus,
            "Pricing experiment for a new enterprise tier",
            "We want to launch an enterprise tier (SSO, audit log, SLA). Help us design a "
            "pricing experiment and decide what belongs in which tier.",
            ("Pricing", "Data Analytics"), ("3000", "6000"), "USD", 35,
        )
        self.project(
            marcus,
            "Data room and term sheet review for our seed round",
            "Help us prepare the data room and review the term sheets we expect in the "
            "autumn (valuation cap, liquidation preference, board seats).",
            ("Legal", "Fundraising"), ("2500", "5000"), "USD", 75,
        )
