"""template.yaml's properties that matter, read from the template itself: the authorizer on every method but the
preflight, CORS on the gateway's own errors, token lifetimes, each role's least privilege, invoke permissions per
route; and what the bootstrap's packaging does to it. (The deployed stack's behaviour is the integration tests'.)"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from albums import http, table
from bootstrap import functions
from bootstrap import template as tpl

TEMPLATE = tpl.load()
FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
EXPANDED = tpl.expanded(TEMPLATE)  # with the Routes and Paths loops' copies
RESOURCES = EXPANDED["Resources"]
ROUTES = tpl.functions(TEMPLATE)
METHODS = tpl.resources(TEMPLATE, "AWS::ApiGateway::Method")
CORS = {"Access-Control-Allow-Headers": f"'{http.CORS_ALLOW_HEADERS}'",
        "Access-Control-Allow-Methods": f"'{http.CORS_ALLOW_METHODS}'"}
# The one origin the API allows: given (locally the emulator's address), else the site's own address.
SITE_ORIGIN = {"Fn::If": ["GivenSiteOrigin", {"Ref": "SiteOrigin"}, {"Fn::If": [
    "UseCloudFront", {"Fn::Sub": "https://${SiteDistribution.DomainName}"},
    {"Fn::GetAtt": ["SiteBucket", "WebsiteURL"]}]}]}
QUOTED_SITE_ORIGIN = {"Fn::Sub": ["'${Origin}'", {"Origin": SITE_ORIGIN}]}
# The functions behind the API's routes (the pool's PostConfirmation trigger is one more).
API_FUNCTIONS = {name: res for name, res in tpl.resources(TEMPLATE, "AWS::Lambda::Function").items()
                 if res["Properties"]["FunctionName"] in {f.name for f in ROUTES}}


def test_every_method_but_the_preflight_needs_a_token_of_the_pool() -> None:
    authorizer = RESOURCES["Authorizer"]["Properties"]
    assert authorizer["Type"] == "COGNITO_USER_POOLS"
    assert authorizer["ProviderARNs"] == [{"Fn::GetAtt": ["UserPool", "Arn"]}]
    assert authorizer["IdentitySource"] == "method.request.header.Authorization"
    verbs = {method["Properties"]["HttpMethod"] for method in METHODS.values()}
    assert verbs == {"GET", "POST", "PUT", "DELETE", "OPTIONS"}
    for logical, resource in METHODS.items():
        method, verb = resource["Properties"], logical
        if method["HttpMethod"] == "OPTIONS":
            assert method["AuthorizationType"] == "NONE"  # browsers send the preflight without a token
            assert method["Integration"]["Type"] == "MOCK"
        else:
            assert method["AuthorizationType"] == "COGNITO_USER_POOLS", verb
            assert method["AuthorizerId"] == {"Ref": "Authorizer"}, verb
            assert method["Integration"]["Type"] == "AWS_PROXY", verb


def test_the_preflight_and_the_gateways_own_errors_answer_the_functions_cors() -> None:
    preflights = {tpl.path(EXPANDED, m["Properties"]["ResourceId"]): m["Properties"]
                  for m in METHODS.values() if m["Properties"]["HttpMethod"] == "OPTIONS"}
    assert set(preflights) == {f.path for f in ROUTES}  # every path the site calls answers the preflight
    for options in preflights.values():
        (response,) = options["Integration"]["IntegrationResponses"]
        assert response["ResponseParameters"] == {f"method.response.header.{k}": v for k, v in {
            **CORS, "Access-Control-Allow-Origin": QUOTED_SITE_ORIGIN}.items()}
    responses = {r["Properties"]["ResponseType"]: r["Properties"]
                 for r in tpl.resources(TEMPLATE, "AWS::ApiGateway::GatewayResponse").values()}
    assert set(responses) == {"DEFAULT_4XX", "DEFAULT_5XX"}
    for gateway_response in responses.values():
        assert gateway_response["ResponseParameters"] == {f"gatewayresponse.header.{k}": v for k, v in {
            **CORS, "Access-Control-Allow-Origin": QUOTED_SITE_ORIGIN}.items()}
    assert len(API_FUNCTIONS) == len(ROUTES)
    for function in API_FUNCTIONS.values():
        assert function["Properties"]["Environment"]["Variables"]["CORS_ALLOW_ORIGIN"] == SITE_ORIGIN
    assert TEMPLATE["Outputs"]["SiteOrigin"]["Value"] == SITE_ORIGIN


def test_tokens_are_short_lived_and_the_browser_client_has_no_secret() -> None:
    client = RESOURCES["UserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False
    assert (client["IdTokenValidity"], client["TokenValidityUnits"]["IdToken"]) == (15, "minutes")
    assert (client["AccessTokenValidity"], client["TokenValidityUnits"]["AccessToken"]) == (15, "minutes")
    assert (client["RefreshTokenValidity"], client["TokenValidityUnits"]["RefreshToken"]) == (1, "days")
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    flows = client["ExplicitAuthFlows"]["Fn::If"]
    assert flows[0] == "PasswordAuthAllowed" and "ALLOW_USER_PASSWORD_AUTH" not in flows[2]  # off unless asked for


def test_the_pool_signs_in_by_username_or_verified_email() -> None:
    pool = RESOURCES["UserPool"]["Properties"]
    assert pool["UserPoolName"] == "projectpool"
    assert pool["AliasAttributes"] == ["email"] and "UsernameAttributes" not in pool
    assert pool["UsernameConfiguration"] == {"CaseSensitive": False}
    assert pool["AutoVerifiedAttributes"] == ["email"]


WANTED = {  # route -> the table actions its function may use, and no others
    "GET /album": {"dynamodb:GetItem", "dynamodb:BatchGetItem"},
    "POST /album": {"dynamodb:PutItem", "dynamodb:UpdateItem"},
    "PUT /album": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
    "DELETE /album": {"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:UpdateItem"},
    "GET /album/stats": {"dynamodb:GetItem", "dynamodb:BatchGetItem"},
}


@pytest.mark.parametrize("function", ROUTES, ids=lambda f: f.route)
def test_each_function_may_do_only_its_own_job(function: tpl.Function) -> None:
    assert set(function.table_actions) == WANTED[function.route]
    (logical,) = [name for name, res in tpl.resources(TEMPLATE, "AWS::Lambda::Function").items()
                  if res["Properties"]["FunctionName"] == function.name]
    role = RESOURCES[RESOURCES[logical]["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]
    (policy,) = role["Policies"]
    for statement in policy["PolicyDocument"]["Statement"]:
        assert statement["Effect"] == "Allow" and "*" not in str(statement["Action"])
        if statement["Action"][0].startswith("dynamodb:"):
            assert statement["Resource"] == {"Fn::GetAtt": ["AlbumsTable", "Arn"]}  # the table, not its indexes
        else:  # its own log group only
            assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
            assert f"log-group:/aws/lambda/{function.name}:*" in statement["Resource"]["Fn::Sub"]


def test_api_gateway_may_invoke_each_function_for_its_own_route_only() -> None:
    permissions = tpl.resources(TEMPLATE, "AWS::Lambda::Permission")
    routes = {}
    for permission in permissions.values():
        properties = permission["Properties"]
        if properties["Principal"] == "cognito-idp.amazonaws.com":  # the pool's trigger (test below)
            continue
        assert properties["Principal"] == "apigateway.amazonaws.com"
        function = RESOURCES[properties["FunctionName"]["Ref"]]["Properties"]["FunctionName"]
        routes[function] = properties["SourceArn"]["Fn::Sub"].rsplit(":", 1)[1]
    assert routes == {f.name: f"${{RestApi}}/*/{f.method}{f.path}" for f in ROUTES}


def test_functions_share_one_package_runtime_and_settings() -> None:
    for logical, function in tpl.resources(TEMPLATE, "AWS::Lambda::Function").items():
        properties = function["Properties"]
        assert properties["Code"] == "lambdas/"
        assert properties["Runtime"] == f"python{functions.RUNTIME_PYTHON}"
        assert properties["Handler"].startswith("albums.handlers.")
        if logical in API_FUNCTIONS:  # the API's functions take this app client's ID tokens only
            assert properties["Environment"]["Variables"]["ALBUMS_TABLE"] == {"Ref": "AlbumsTable"}
            assert properties["Environment"]["Variables"]["USER_POOL_CLIENT_ID"] == {"Ref": "UserPoolClient"}


def test_editors_two_step_sign_in_revocable_tokens_and_e_mail_held_until_verified() -> None:
    pool = RESOURCES["UserPool"]["Properties"]
    assert (pool["MfaConfiguration"], pool["EnabledMfas"]) == ("OPTIONAL", ["SOFTWARE_TOKEN_MFA"])  # no SMS
    assert pool["UserAttributeUpdateSettings"] == {"AttributesRequireVerificationBeforeUpdate": ["email"]}
    client = RESOURCES["UserPoolClient"]["Properties"]
    assert client["EnableTokenRevocation"] is True
    assert client["WriteAttributes"] == ["email"]  # sign-up writes it; never email_verified
    group = RESOURCES["EditorsGroup"]["Properties"]
    assert group == {**group, "UserPoolId": {"Ref": "UserPool"}, "GroupName": "editors"}


def test_new_users_become_editors_only_where_the_stack_says_so() -> None:
    assert TEMPLATE["Parameters"]["NewUsersAreEditors"]["Default"] == "false"  # on AWS, readers until make editor
    assert RESOURCES["UserPool"]["Properties"]["LambdaConfig"] == {"Fn::If": [
        "NewUsersJoinEditors", {"PostConfirmation": {"Fn::GetAtt": ["NewUserFunction", "Arn"]}},
        {"Ref": "AWS::NoValue"}]}
    trigger = ["NewUserFunction", "NewUserFunctionRole", "NewUserFunctionLogs", "NewUserFunctionInvoke"]
    assert {RESOURCES[name]["Condition"] for name in trigger} == {"NewUsersJoinEditors"}
    assert RESOURCES["NewUserFunction"]["Properties"]["Handler"] == "albums.handlers.new_user.handler"
    (policy,) = RESOURCES["NewUserFunctionRole"]["Properties"]["Policies"]
    grants = {str(statement["Action"]): statement["Resource"]["Fn::Sub"]
              for statement in policy["PolicyDocument"]["Statement"]}
    assert grants == {  # the pool names the function, so the role cannot name the pool: this account's pools
        "cognito-idp:AdminAddUserToGroup":
            "arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/*",
        "['logs:CreateLogStream', 'logs:PutLogEvents']":
            "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/albums-new-user:*",
    }
    invoke = RESOURCES["NewUserFunctionInvoke"]["Properties"]
    assert invoke["Principal"] == "cognito-idp.amazonaws.com"
    assert invoke["SourceArn"] == {"Fn::GetAtt": ["UserPool", "Arn"]}


def test_the_table_is_the_one_the_functions_and_tests_describe() -> None:
    properties = RESOURCES["AlbumsTable"]["Properties"]
    assert properties["TableName"] == "Albums"
    assert {key: properties[key] for key in table.TABLE_DEFINITION} == table.TABLE_DEFINITION


def test_by_default_the_site_is_https_through_cloudfront_from_a_private_bucket() -> None:
    assert TEMPLATE["Parameters"]["Site"]["Default"] == "cloudfront"
    bucket = RESOURCES["SiteBucket"]["Properties"]
    block = bucket["PublicAccessBlockConfiguration"]
    assert block["BlockPublicAcls"] is True and block["IgnorePublicAcls"] is True  # never public ACLs, either way
    assert block["BlockPublicPolicy"] == block["RestrictPublicBuckets"] == {"Fn::If": ["UseCloudFront", True, False]}
    assert bucket["WebsiteConfiguration"]["Fn::If"][:2] == ["UseCloudFront", {"Ref": "AWS::NoValue"}]
    (statement,) = RESOURCES["SiteBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    condition, by_cloudfront, public = statement["Fn::If"]
    assert condition == "UseCloudFront"
    assert by_cloudfront["Principal"] == {"Service": "cloudfront.amazonaws.com"}  # this distribution only
    assert "distribution/${SiteDistribution}" in by_cloudfront["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    for read in (by_cloudfront, public):
        assert read["Action"] == "s3:GetObject"  # read only, never a write
    assert public["Principal"] == "*"

    config = RESOURCES["SiteDistribution"]["Properties"]["DistributionConfig"]
    assert config["DefaultRootObject"] == "index.html"
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["DefaultCacheBehavior"]["AllowedMethods"] == ["GET", "HEAD"]
    assert config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == {"Ref": "SiteHeaders"}
    (origin,) = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["SiteOriginAccessControl", "Id"]}
    access = RESOURCES["SiteOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (access["SigningBehavior"], access["OriginAccessControlOriginType"]) == ("always", "s3")
    assert TEMPLATE["Outputs"]["WebsiteUrl"]["Value"]["Fn::If"][1] == {
        "Fn::Sub": "https://${SiteDistribution.DomainName}/"}


def test_the_security_headers_are_the_pages_csp_and_forbid_framing() -> None:
    headers = RESOURCES["SiteHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert all(header["Override"] for header in headers.values())
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31_536_000  # a year at least
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
    assert "ContentTypeOptions" in headers
    csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    page = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', (FRONTEND / "index.html").read_text())
    assert page is not None
    api_and_cognito = ("https://${RestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix} "
                       "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}")
    assert csp == page.group(1).replace("{{CONNECT_SRC}}", api_and_cognito) + "; frame-ancestors 'none'"


def test_every_page_has_the_same_csp_and_the_frame_guard_first() -> None:
    for html in sorted(FRONTEND.glob("*.html")):
        lines = html.read_text().splitlines()
        (at,) = [i for i, line in enumerate(lines) if 'http-equiv="Content-Security-Policy"' in line]
        assert lines[at + 1].strip() == '<script src="js/frame-guard.js"></script>', html.name
        assert not any("<script" in line for line in lines[:at]), html.name


def test_users_and_albums_survive_mistakes() -> None:
    table_resource, pool_resource = RESOURCES["AlbumsTable"], RESOURCES["UserPool"]
    for resource in (table_resource, pool_resource):
        assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
    assert table_resource["Properties"]["DeletionProtectionEnabled"] is True
    assert table_resource["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert pool_resource["Properties"]["DeletionProtection"] == "ACTIVE"


def test_the_stage_limits_every_method_and_the_writes_more() -> None:
    settings = {(s["ResourcePath"], s["HttpMethod"]): s
                for s in RESOURCES["ApiStage"]["Properties"]["MethodSettings"]}
    everything = settings[("/*", "*")]
    for method in ("POST", "PUT", "DELETE"):
        write = settings[("/~1album", method)]
        assert write["ThrottlingRateLimit"] < everything["ThrottlingRateLimit"]
        assert write["ThrottlingBurstLimit"] < everything["ThrottlingBurstLimit"]
    assert ("/~1album", "GET") not in settings  # reads have the stage's limit


CODE = {"S3Bucket": "artifacts", "S3Key": "albums-function-abc.zip"}


def test_packaging_puts_the_uploaded_zip_in_every_function() -> None:
    packaged = tpl.packaged(TEMPLATE, CODE)
    for function in tpl.resources(packaged, "AWS::Lambda::Function").values():
        assert function["Properties"]["Code"] == CODE
    assert RESOURCES["GetFunction"]["Properties"]["Code"] == "lambdas/"  # the template itself is untouched


def test_an_api_change_makes_a_new_deployment_and_nothing_else_does() -> None:
    packaged = tpl.packaged(TEMPLATE, CODE)
    deployment = tpl.deployment_id(packaged)
    assert deployment.startswith(tpl.DEPLOYMENT) and deployment != tpl.DEPLOYMENT
    assert packaged["Resources"]["ApiStage"]["Properties"]["DeploymentId"] == {"Ref": deployment}
    assert tpl.deployment_id(tpl.packaged(TEMPLATE, CODE)) == deployment  # stable
    other_code = tpl.packaged(TEMPLATE, {**CODE, "S3Key": "albums-function-def.zip"})
    assert tpl.deployment_id(other_code) == deployment  # new code is not an API change

    changed = copy.deepcopy(TEMPLATE)
    changed["Resources"]["Fn::ForEach::Routes"][2]["${Route}Method"]["Properties"]["RequestParameters"] = {}
    assert tpl.deployment_id(tpl.packaged(changed, CODE)) != deployment
    another_route = copy.deepcopy(TEMPLATE)
    another_route["Mappings"]["Routes"]["Stats"]["Method"] = "POST"
    assert tpl.deployment_id(tpl.packaged(another_route, CODE)) != deployment


def test_functions_are_read_from_the_template() -> None:
    found = {f.route: (f.name, f.handler) for f in ROUTES}
    assert found == {
        "GET /album": ("albums-get", "albums.handlers.get.handler"),
        "POST /album": ("albums-create", "albums.handlers.create.handler"),
        "PUT /album": ("albums-update", "albums.handlers.update.handler"),
        "DELETE /album": ("albums-delete", "albums.handlers.delete.handler"),
        "GET /album/stats": ("albums-stats", "albums.handlers.stats.handler"),
    }
    assert [tpl.function_named(name).name for name in ("get", "albums-stats", "post", "PUT")] == [
        "albums-get", "albums-stats", "albums-create", "albums-update"]


# --- Routes declared once: the Routes mapping is the one list; what must name its rows is checked here ----------
LOOP = TEMPLATE["Resources"]["Fn::ForEach::Routes"]
PATHS_LOOP = TEMPLATE["Resources"]["Fn::ForEach::Paths"]


def test_every_route_row_is_in_the_loop_and_the_deployment_waits_for_its_method() -> None:
    rows = TEMPLATE["Mappings"]["Routes"]
    assert LOOP[1] == list(rows), "the Routes loop's list (template.yaml, Fn::ForEach::Routes) must name every row"
    waits_for = set(TEMPLATE["Resources"]["ApiDeployment"]["DependsOn"])
    methods = set(METHODS)
    assert methods <= waits_for, f"add {sorted(methods - waits_for)} to ApiDeployment's DependsOn"
    for name, row in rows.items():
        assert tpl.path(EXPANDED, {"Ref": row["Resource"]}) == row["Path"], name
        assert row["Resource"].removesuffix("Resource") in PATHS_LOOP[1], f"{row['Resource']}: add to the Paths loop"
        handler = FRONTEND.parent / "lambdas" / "albums" / "handlers" / f"{row['Module']}.py"
        assert handler.exists(), f"{name}: no {handler.relative_to(FRONTEND.parent)}"


def test_the_loops_expand_as_the_emulators_transform_expands_them() -> None:
    """bootstrap.template reads the routes off its own expansion; MiniStack (what `make up` deploys to) has the
    transform's full implementation. Both must make the same resources from the same template."""
    from ministack.services.cloudformation import language_extensions

    theirs = language_extensions.apply(copy.deepcopy(TEMPLATE), {})["Resources"]
    assert set(theirs) == set(RESOURCES)

    def plain(value: object) -> object:  # a constant Fn::Sub is its string (the engine resolves it so)
        if isinstance(value, dict):
            if set(value) == {"Fn::Sub"}:
                text, variables = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]
                for name, variable in variables.items():
                    if isinstance(variable, str):
                        text = text.replace("${" + name + "}", variable)
                left = {name: plain(v) for name, v in variables.items() if not isinstance(v, str)}
                return {"Fn::Sub": [text, left] if left else text} if "${" in text else text
            return {key: plain(item) for key, item in value.items()}
        if isinstance(value, list):
            return [plain(item) for item in value]
        return value

    assert plain(theirs) == plain(RESOURCES)
