"""Build catalog.xlsx: a WooCommerce product export (one sheet) for a smart pet-products store.

Run:  /tmp/petxlsx/bin/python make_catalog.py
Parent products are "variable" rows with comma-separated attribute values; their
"variation" rows carry Parent = parent SKU, one value per attribute, own price and stock.
"""

import os

from openpyxl import Workbook

HERE = os.path.dirname(os.path.abspath(__file__))
IMG = "https://pawsmartshop.com/wp-content/uploads/2024/05/"

HEADERS = [
    "ID",
    "Type",
    "SKU",
    "Name",
    "Published",
    "Is featured?",
    "Visibility in catalog",
    "Short description",
    "Description",
    "Tax status",
    "Tax class",
    "In stock?",
    "Stock",
    "Backorders allowed?",
    "Weight (lbs)",
    "Length (in)",
    "Width (in)",
    "Height (in)",
    "Allow customer reviews?",
    "Sale price",
    "Regular price",
    "Categories",
    "Tags",
    "Shipping class",
    "Images",
    "Parent",
    "Position",
    "Attribute 1 name",
    "Attribute 1 value(s)",
    "Attribute 1 visible",
    "Attribute 1 global",
    "Attribute 2 name",
    "Attribute 2 value(s)",
    "Attribute 2 visible",
    "Attribute 2 global",
    "meta:capacity",
    "meta:battery_backup",
    "meta:app_control",
    "meta:max_pet_weight",
    "meta:battery_life",
    "meta:connectivity",
    "meta:waterproof",
    "meta:noise_level",
    "meta:video_resolution",
    "meta:night_vision",
    "meta:flap_size",
]

rows: list[dict] = []


def parent(**kw):
    """A 'variable' or 'simple' product row."""
    r = {
        "Published": 1,
        "Is featured?": 0,
        "Visibility in catalog": "visible",
        "Tax status": "taxable",
        "Backorders allowed?": 0,
        "Allow customer reviews?": 1,
        "Position": 0,
    }
    r.update(kw)
    if r["Type"] == "variable":
        r.setdefault("In stock?", 1)
        for i in (1, 2):
            if r.get(f"Attribute {i} name"):
                r.setdefault(f"Attribute {i} visible", 1)
                r.setdefault(f"Attribute {i} global", 1)
    rows.append(r)
    return r


def variation(p, pos, **kw):
    r = {
        "Type": "variation",
        "Published": 1,
        "Is featured?": 0,
        "Visibility in catalog": "visible",
        "Tax status": "taxable",
        "Tax class": "parent",
        "Backorders allowed?": 0,
        "Allow customer reviews?": 0,
        "Parent": p["SKU"],
        "Position": pos,
        "Attribute 1 name": p.get("Attribute 1 name"),
        "Attribute 2 name": p.get("Attribute 2 name"),
    }
    r.update(kw)
    if r.get("Attribute 1 name"):
        r["Attribute 1 global"] = 1
    if r.get("Attribute 2 name"):
        r["Attribute 2 global"] = 1
    r["In stock?"] = 1 if r.get("Stock", 0) > 0 else 0
    rows.append(r)
    return r


# ---------------------------------------------------------------- Feeding
f4 = parent(
    ID=101,
    Type="variable",
    SKU="F4",
    Name="PawFeast F4 Automatic Pet Feeder",
    **{"Is featured?": 1},
    **{
        "Short description": "Wi-Fi automatic feeder with app scheduling and a 4L or 6L hopper.",
        "Description": (
            "<p>The PawFeast F4 keeps your pet on schedule even when you're stuck at work. "
            "Set up to 10 meals a day in the PawFeast app, with 1-20 portions per meal "
            "(about 10 g per portion).</p>\n"
            "<ul>\n<li>Dual power: DC adapter plus 3 x D-cell batteries as backup (batteries not "
            "included), so meals keep coming during a power cut.</li>\n"
            "<li>Record a 10-second voice message to call your pet to dinner.</li>\n"
            "<li>Twist-lock lid and desiccant bag keep kibble fresh.</li>\n</ul>\n"
            "<p>Good to know: the F4 is for dry kibble 2-12 mm only. It can't be used with wet "
            "or raw food. The stainless steel bowl is dishwasher safe; hand wash the hopper. "
            "Wi-Fi setup needs a 2.4 GHz network (5 GHz is not supported).</p>"
        ),
        "Categories": "Feeding > Automatic Feeders",
        "Tags": "cat, dog, feeder, wifi",
        "Shipping class": "standard",
        "Images": IMG + "f4-white.jpg, " + IMG + "f4-black.jpg",
        "Attribute 1 name": "Capacity",
        "Attribute 1 value(s)": "4L, 6L",
        "Attribute 2 name": "Color",
        "Attribute 2 value(s)": "White, Black",
        "meta:capacity": "4L, 6L",
        "meta:battery_backup": "Yes",
        "meta:app_control": "TRUE",
        "meta:max_pet_weight": "N/A",
        "meta:connectivity": "2.4GHz Wi-Fi",
        "meta:waterproof": "N/A",
    },
)
for i, (sku, cap, col, price, stock, wt) in enumerate(
    [
        ("F4-4L-WHT", "4L", "White", 69.99, 23, 3.1),
        ("F4-4L-BLK", "4L", "Black", 69.99, 8, 3.1),
        ("F4-6L-WHT", "6L", "White", 84.99, 0, 3.6),
        ("F4-6L-BLK", "6L", "Black", 84.99, 15, 3.6),
    ],
    start=1,
):
    variation(
        f4,
        i,
        ID=101 + i,
        SKU=sku,
        Name=f"PawFeast F4 Automatic Pet Feeder - {cap}, {col}",
        Stock=stock,
        **{
            "Regular price": price,
            "Weight (lbs)": wt,
            "Attribute 1 value(s)": cap,
            "Attribute 2 value(s)": col,
            "meta:capacity": cap,
        },
    )

parent(
    ID=110,
    Type="simple",
    SKU="F2D",
    Name="PawFeast F2D Dual-Bowl Automatic Feeder",
    Stock=12,
    **{
        "In stock?": 1,
        "Short description": "One hopper, two bowls - feeds two cats at the same time.",
        "Description": (
            "<p>Made for two-cat homes. The 5L hopper splits every meal evenly into two "
            "stainless steel bowls, up to 6 meals a day, scheduled in the PawFeast app.</p>\n"
            "<p>Please note: both bowls always get the same portion; you can't set a different "
            "amount for each bowl. Backup power: 3 x D-cell batteries (not included). "
            "Replace the desiccant bag every 30 days.</p>"
        ),
        "Regular price": 99.99,
        "Weight (lbs)": 4.4,
        "Length (in)": 13.4,
        "Width (in)": 9.1,
        "Height (in)": 14.2,
        "Categories": "Feeding > Automatic Feeders",
        "Tags": "cat, feeder, multi-cat",
        "Shipping class": "standard",
        "Images": IMG + "f2d.jpg",
        "meta:capacity": "5L",
        "meta:battery_backup": "Yes",
        "meta:app_control": "TRUE",
        "meta:max_pet_weight": "N/A",
        "meta:connectivity": "2.4GHz Wi-Fi",
    },
)

w3 = parent(
    ID=120,
    Type="variable",
    SKU="W3",
    Name="AquaPaw W3 Pet Water Fountain",
    **{
        "Short description": "2.5L ultra-quiet fountain with triple filtration.",
        "Description": (
            "<p>Flowing, filtered water encourages cats to drink more. The 2.5L tank lasts a "
            "single cat about 7 days.</p>\n<ul>\n"
            "<li>Triple filtration: cotton, activated carbon and ion-exchange resin.</li>\n"
            "<li>Comes with 2 filters. Change the filter every 2-4 weeks.</li>\n"
            "<li>Ultra-quiet pump, under 30 dB.</li>\n"
            "<li>USB-powered (5V); a USB wall adapter is not included.</li>\n</ul>\n"
            "<p>The LED light turns red when the water level is low. Everything except the pump "
            "is dishwasher safe.</p>"
        ),
        "Categories": "Feeding > Water Fountains",
        "Tags": "cat, fountain, water",
        "Shipping class": "standard",
        "Images": IMG + "w3-white.jpg, " + IMG + "w3-grey.jpg, " + IMG + "w3-pink.jpg",
        "Attribute 1 name": "Color",
        "Attribute 1 value(s)": "White, Grey, Pink",
        "meta:capacity": "2.5L",
        "meta:battery_backup": "FALSE",
        "meta:app_control": "FALSE",
        "meta:max_pet_weight": "N/A",
        "meta:connectivity": "N/A",
        "meta:noise_level": "under 30 dB",
    },
)
for i, (sku, col, stock) in enumerate([("W3-WHT", "White", 40), ("W3-GRY", "Grey", 0), ("W3-PNK", "Pink", 6)], start=1):
    variation(
        w3,
        i,
        ID=120 + i,
        SKU=sku,
        Name=f"AquaPaw W3 Pet Water Fountain - {col}",
        Stock=stock,
        **{"Regular price": 39.99, "Weight (lbs)": 1.8, "Attribute 1 value(s)": col},
    )

parent(
    ID=130,
    Type="simple",
    SKU="W5PRO",
    Name="AquaPaw W5 Pro Stainless Steel Cordless Fountain",
    Stock=17,
    **{
        "In stock?": 1,
        "Short description": "Cordless 3.2L fountain with a 304 stainless steel top and app water-level alerts.",
        "Description": (
            "<p>The W5 Pro runs on a built-in 4000 mAh battery, so you can place it anywhere - "
            "no cord to chew. One charge lasts up to 30 days in sensor mode or about 7 days in "
            "continuous mode. Charging via USB-C takes about 5 hours.</p>\n"
            "<p>The 304 stainless steel top tray is dishwasher safe; the pump and battery base "
            "are not. The app (Bluetooth) shows the water level and reminds you when to change "
            "the filter.</p>"
        ),
        "Sale price": 54.99,
        "Regular price": 64.99,
        "Weight (lbs)": 2.6,
        "Categories": "Feeding > Water Fountains",
        "Tags": "cat, dog, fountain, cordless",
        "Shipping class": "standard",
        "Images": IMG + "w5pro.jpg",
        "meta:capacity": "3.2L",
        "meta:battery_backup": "Yes",
        "meta:app_control": "TRUE",
        "meta:max_pet_weight": "N/A",
        "meta:battery_life": "up to 30 days (sensor mode)",
        "meta:connectivity": "Bluetooth",
        "meta:noise_level": "under 25 dB",
    },
)

# ---------------------------------------------------------------- Tracking
g2 = parent(
    ID=140,
    Type="variable",
    SKU="G2",
    Name="TrackTail G2 GPS Dog Collar",
    **{
        "Is featured?": 1,
        "Short description": "Real-time GPS dog collar with up to 7 days of battery, IP67 waterproof.",
        "Description": (
            "<p>See where your dog is in real time, set safe zones and get an alert the moment "
            "they leave the yard.</p>\n<ul>\n"
            "<li>Battery: up to 7 days per charge (with live tracking off), about 2 hours to "
            "fully charge with the magnetic cable.</li>\n"
            "<li>IP67 waterproof - fine for rain and puddles, not for swimming deeper than "
            "3 feet.</li>\n"
            "<li>Works in the US and Canada.</li>\n</ul>\n"
            "<p>A TrackTail subscription is required for GPS tracking: $4.99/month or "
            "$49.99/year, first month free. Designed for dogs 15 lbs and up; not for cats.</p>"
        ),
        "Categories": "Tracking > GPS Collars",
        "Tags": "dog, gps, collar",
        "Shipping class": "small-parcel",
        "Images": IMG + "g2-black.jpg, " + IMG + "g2-orange.jpg",
        "Attribute 1 name": "Size",
        "Attribute 1 value(s)": "S, M, L",
        "Attribute 2 name": "Color",
        "Attribute 2 value(s)": "Black, Orange",
        "meta:battery_backup": "N/A",
        "meta:app_control": "TRUE",
        "meta:max_pet_weight": "N/A",
        "meta:battery_life": "up to 7 days",
        "meta:connectivity": "GPS + LTE-M",
        "meta:waterproof": "IP67",
    },
)
NECK = {"S": "Fits neck 10-14 in", "M": "Fits neck 14-20 in", "L": "Fits neck 20-27 in"}
for i, (sku, size, col, price, stock) in enumerate(
    [
        ("G2-S-BLK", "S", "Black", 129, 14),
        ("G2-S-ORG", "S", "Orange", 129, 3),
        ("G2-M-BLK", "M", "Black", 129, 22),
        ("G2-M-ORG", "M", "Orange", 129, 0),
        ("G2-L-BLK", "L", "Black", 139, 9),
    ],
    start=1,
):
    variation(
        g2,
        i,
        ID=140 + i,
        SKU=sku,
        Name=f"TrackTail G2 GPS Dog Collar - {size}, {col}",
        Stock=stock,
        Description=NECK[size],
        **{"Regular price": price, "Weight (lbs)": 0.15, "Attribute 1 value(s)": size, "Attribute 2 value(s)": col},
    )

parent(
    ID=150,
    Type="simple",
    SKU="B1",
    Name="TrackTail B1 Bluetooth Pet Tag",
    Stock=120,
    **{
        "In stock?": 1,
        "Short description": "Tiny Bluetooth tag for any collar - no monthly fee.",
        "Description": (
            "<p>Clip the B1 onto any collar and find your pet around the house or yard with the "
            "TrackTail app. Range up to 200 ft.</p>\n"
            "<p>No subscription, no monthly fees. The replaceable CR2032 coin battery lasts "
            "about 12 months. Note: the B1 is a Bluetooth tag, not a GPS tracker - it shows the "
            "last place your phone saw it, so it can't track a pet live once it's out of "
            "range.</p>"
        ),
        "Regular price": 19.99,
        "Weight (lbs)": 0.02,
        "Categories": "Tracking > Trackers",
        "Tags": "cat, dog, tag, bluetooth",
        "Shipping class": "small-parcel",
        "Images": IMG + "b1.jpg",
        "meta:battery_backup": "N/A",
        "meta:app_control": "Yes",
        "meta:max_pet_weight": "N/A",
        "meta:battery_life": "about 12 months",
        "meta:connectivity": "Bluetooth 5.0",
        "meta:waterproof": "IPX5",
    },
)

# ---------------------------------------------------------------- Litter
parent(
    ID=160,
    Type="simple",
    SKU="L1",
    Name="CleanPaw L1 Self-Cleaning Litter Box",
    Stock=5,
    **{
        "In stock?": 1,
        "Is featured?": 1,
        "Short description": "Rotating self-cleaning litter box with a 9L waste drawer and app, for cats 3.3-22 lbs.",
        "Description": (
            "<p>Scoop-free for up to 14 days with one cat. After your cat leaves, the L1 waits "
            "3-15 minutes (you choose in the app) and then rotates to sift clumps into the "
            "sealed 9L waste drawer.</p>\n<ul>\n"
            "<li>Weight and infrared sensors stop the cleaning cycle if a cat steps in.</li>\n"
            "<li>The app logs each visit and your cat's weight.</li>\n"
            "<li>Suitable for cats from 3.3 lbs up to 22 lbs. Not recommended for kittens under "
            "6 months.</li>\n</ul>\n"
            "<p>Use clumping clay or tofu litter. Crystal litter and pine pellets are not "
            "compatible.</p>"
        ),
        "Sale price": 349,
        "Regular price": 399,
        "Weight (lbs)": 26.5,
        "Length (in)": 23.6,
        "Width (in)": 21.3,
        "Height (in)": 24.8,
        "Categories": "Litter & Cleaning > Litter Boxes",
        "Tags": "cat, litter, self-cleaning",
        "Shipping class": "oversize",
        "Images": IMG + "l1.jpg",
        "meta:capacity": "9L waste drawer",
        "meta:battery_backup": "FALSE",
        "meta:app_control": "TRUE",
        "meta:max_pet_weight": "up to 22 lbs",
        "meta:connectivity": "2.4GHz Wi-Fi",
        "meta:noise_level": "under 40 dB",
    },
)

# ---------------------------------------------------------------- Cameras
c1 = parent(
    ID=170,
    Type="variable",
    SKU="C1",
    Name="TreatCam C1 Pet Camera with Treat Toss",
    **{
        "Short description": "Watch, talk and toss treats from your phone. 1080p or 2K.",
        "Description": (
            "<p>Check in on your pet from anywhere: 160° wide-angle view, night vision and "
            "two-way audio. Tap the app to toss a treat up to 6 feet.</p>\n<ul>\n"
            "<li>Treat hopper holds about 100 treats, 0.4-1 inch in size.</li>\n"
            "<li>Bark alerts sent to your phone.</li>\n"
            "<li>Video storage on a microSD card up to 128GB (not included) or an optional cloud "
            "plan.</li>\n</ul>\n"
            "<p>The C1 must stay plugged in (USB power); it has no built-in battery. Place it on "
            "a table or shelf - wall mounting is not supported.</p>"
        ),
        "Categories": "Cameras > Pet Cameras",
        "Tags": "dog, cat, camera, treats",
        "Shipping class": "standard",
        "Images": IMG + "c1.jpg",
        "Attribute 1 name": "Version",
        "Attribute 1 value(s)": "1080p, 2K",
        "meta:capacity": "about 100 treats",
        "meta:battery_backup": "FALSE",
        "meta:app_control": "TRUE",
        "meta:max_pet_weight": "N/A",
        "meta:connectivity": "2.4GHz Wi-Fi",
        "meta:video_resolution": "1080p, 2K",
        "meta:night_vision": "Yes",
    },
)
for i, (sku, ver, price, stock) in enumerate([("C1-1080", "1080p", 119.99, 30), ("C1-2K", "2K", 149.99, 11)], start=1):
    variation(
        c1,
        i,
        ID=170 + i,
        SKU=sku,
        Name=f"TreatCam C1 Pet Camera with Treat Toss - {ver}",
        Stock=stock,
        **{"Regular price": price, "Weight (lbs)": 1.9, "Attribute 1 value(s)": ver, "meta:video_resolution": ver},
    )

# ---------------------------------------------------------------- Doors
d1 = parent(
    ID=180,
    Type="variable",
    SKU="D1",
    Name="SmartFlap D1 Microchip Pet Door",
    **{
        "Short description": "Microchip pet door that only opens for your pets - stores up to 32 pets.",
        "Description": (
            "<p>Only lets in pets you've registered. The D1 reads your pet's existing microchip "
            "or the RFID collar tag (2 tags included) and stores up to 32 pets.</p>\n<ul>\n"
            "<li>4 locking modes plus curfew scheduling from the app.</li>\n"
            "<li>Runs on 4 x AA batteries, about 12 months per set.</li>\n"
            "<li>Fits doors 1-2 in thick. Not suitable for glass doors.</li>\n</ul>"
        ),
        "Categories": "Doors & Gates > Smart Pet Doors",
        "Tags": "cat, dog, door, microchip",
        "Shipping class": "standard",
        "Images": IMG + "d1.jpg",
        "Attribute 1 name": "Size",
        "Attribute 1 value(s)": "Medium, Large",
        "meta:battery_backup": "N/A",
        "meta:app_control": "TRUE",
        "meta:max_pet_weight": "Medium: up to 25 lbs / Large: up to 60 lbs",
        "meta:battery_life": "about 12 months (4 x AA)",
        "meta:connectivity": "Bluetooth",
        "meta:waterproof": "N/A",
    },
)
for i, (sku, size, price, stock, maxw, flap, wt) in enumerate(
    [
        ("D1-M", "Medium", 179, 7, "up to 25 lbs", "7 x 7.9 in", 3.3),
        ("D1-L", "Large", 229, 0, "up to 60 lbs", "10.5 x 12 in", 5.1),
    ],
    start=1,
):
    variation(
        d1,
        i,
        ID=180 + i,
        SKU=sku,
        Name=f"SmartFlap D1 Microchip Pet Door - {size}",
        Stock=stock,
        Description=f"Flap opening {flap}, for cats and dogs {maxw}.",
        **{
            "Regular price": price,
            "Weight (lbs)": wt,
            "Attribute 1 value(s)": size,
            "meta:max_pet_weight": maxw,
            "meta:flap_size": flap,
        },
    )

# ---------------------------------------------------------------- Grooming
parent(
    ID=190,
    Type="simple",
    SKU="V1",
    Name="FurVac V1 Pet Grooming Vacuum Kit",
    Stock=19,
    **{
        "In stock?": 1,
        "Short description": "Clip and deshed while the vacuum sucks up 99% of loose hair.",
        "Description": (
            "<p>Groom at home without hair all over the floor. 5 attachments: clipper, "
            "deshedding brush, slicker brush, nozzle head and cleaning brush, plus 6 guard combs "
            "(3-24 mm).</p>\n"
            "<p>3 suction levels; low mode is about 52 dB, quiet enough for most nervous pets. "
            "Corded: 6.5 ft power cord and 5 ft hose. The 2.5L dust cup empties with one "
            "click.</p>"
        ),
        "Regular price": 89.99,
        "Weight (lbs)": 7.9,
        "Categories": "Grooming > Grooming Vacuums",
        "Tags": "dog, cat, grooming, vacuum",
        "Shipping class": "standard",
        "Images": IMG + "v1.jpg",
        "meta:capacity": "2.5L",
        "meta:battery_backup": "N/A",
        "meta:app_control": "FALSE",
        "meta:max_pet_weight": "N/A",
        "meta:connectivity": "N/A",
        "meta:noise_level": "52 dB",
    },
)

# ---------------------------------------------------------------- Toys
t1 = parent(
    ID=200,
    Type="variable",
    SKU="T1",
    Name="ZoomBall T1 Interactive Cat Ball",
    **{
        "Short description": "Self-rolling smart ball that keeps indoor cats moving.",
        "Description": (
            "<p>A self-rolling ball that changes direction when it hits furniture, keeping "
            "indoor cats busy.</p>\n"
            "<p>USB-C rechargeable: about 2 hours of play per 1-hour charge. It goes to sleep "
            "after 10 minutes of play and wakes itself up every 2 hours for another round. Not "
            "for use on thick carpets or outdoors.</p>"
        ),
        "Categories": "Toys > Interactive Toys",
        "Tags": "cat, toy, ball",
        "Shipping class": "small-parcel",
        "Images": IMG + "t1-blue.jpg, " + IMG + "t1-pink.jpg",
        "Attribute 1 name": "Color",
        "Attribute 1 value(s)": "Blue, Pink",
        "meta:battery_backup": "N/A",
        "meta:app_control": "FALSE",
        "meta:max_pet_weight": "N/A",
        "meta:battery_life": "about 2 hours of play",
        "meta:connectivity": "N/A",
        "meta:waterproof": "No",
    },
)
for i, (sku, col, stock) in enumerate([("T1-BLU", "Blue", 50), ("T1-PNK", "Pink", 0)], start=1):
    variation(
        t1,
        i,
        ID=200 + i,
        SKU=sku,
        Name=f"ZoomBall T1 Interactive Cat Ball - {col}",
        Stock=stock,
        **{"Regular price": 24.99, "Weight (lbs)": 0.3, "Attribute 1 value(s)": col},
    )


def main():
    wb = Workbook()
    ws = wb.active
    ws.title = "wc-product-export"
    ws.append(HEADERS)
    for r in rows:
        unknown = set(r) - set(HEADERS)
        assert not unknown, unknown
        ws.append([r.get(h) for h in HEADERS])
    ws.freeze_panes = "A2"
    out = os.path.join(HERE, "catalog.xlsx")
    wb.save(out)
    print(f"wrote {out}: {len(rows)} rows")


if __name__ == "__main__":
    main()
