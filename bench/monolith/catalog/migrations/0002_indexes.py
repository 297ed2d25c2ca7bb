"""The services' indexes (their migrations 0003), for the reads the mixed workload sends the monolith too."""

import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models


def trigram(field, name):
    return django.contrib.postgres.indexes.GinIndex(
        django.contrib.postgres.indexes.OpClass(django.db.models.functions.text.Upper(field), name="gin_trgm_ops"),
        name=name,
    )


def upper(field, name):
    return models.Index(django.db.models.functions.text.Upper(field), name=name)


def pair(field, name):
    return models.Index(fields=[field, "id"], name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
    ]

    operations = [
        TrigramExtension(),
        migrations.AddIndex("userprofile", trigram("username", "catalog_user_username_trgm")),
        migrations.AddIndex("userprofile", trigram("email", "catalog_user_email_trgm")),
        migrations.AddIndex("userprofile", trigram("full_name", "catalog_user_full_name_trgm")),
        migrations.AddIndex("userprofile", upper("username", "catalog_user_username_upper")),
        migrations.AddIndex("userprofile", upper("email", "catalog_user_email_upper")),
        migrations.AddIndex("userprofile", pair("created_at", "catalog_user_created_at_id")),
        migrations.AddIndex("userprofile", pair("updated_at", "catalog_user_updated_at_id")),
        migrations.AddIndex("product", trigram("name", "catalog_product_name_trgm")),
        migrations.AddIndex("product", upper("sku", "catalog_product_sku_upper")),
        migrations.AddIndex("product", pair("name", "catalog_product_name_id")),
        migrations.AddIndex("product", pair("price", "catalog_product_price_id")),
        migrations.AddIndex("product", pair("stock", "catalog_product_stock_id")),
        migrations.AddIndex("product", pair("created_at", "catalog_product_created_at_id")),
        migrations.AddIndex("product", pair("updated_at", "catalog_product_updated_at_id")),
    ]
